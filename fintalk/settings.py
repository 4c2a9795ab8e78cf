"""Django settings for Fintalk.

All configuration comes from environment variables (listed in the README), read once here
through ``fintalk.env`` so that a bad value fails at start-up with a clear message.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from fintalk.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
# A development default so that `make run` works on a fresh machine; production sets its own.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "fintalk-insecure-development-key")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "bank",
    "conversations",
    "agents",
    "api",
]

MIDDLEWARE = ["fintalk.middleware.BrowserOnlyMiddleware"]
# The admin's middleware runs inside ``BrowserOnlyMiddleware`` (see fintalk/middleware.py), where
# the admin's own checks cannot see it.
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]

ROOT_URLCONF = "fintalk.urls"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "fintalk.wsgi.application"
ASGI_APPLICATION = "fintalk.asgi.application"

DATABASE_URL = env_str("DATABASE_URL", "") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0)
        )
    }
except ValueError as error:
    raise ImproperlyConfigured(
        f"DATABASE_URL is not a database URL ({error}); use e.g. "
        "postgres://user:password@host:5432/name or sqlite:///path/to/db.sqlite3."
    ) from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the server write conversation logs while readers (admin, tests) read.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use a file, not memory, so the server processes they start can share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}

REDIS_URL = env_str("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("FINTALK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.IgnoreAcceptNegotiation",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- Fintalk ---------------------------------------------------------------------------
FINTALK_BANK_NAME = env_str("FINTALK_BANK_NAME", "Fintalk Bank")
# Region used to read phone numbers written without a country code.
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "US").upper()
# Largest accepted request body, in bytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("FINTALK_MAX_BODY_BYTES", 1_048_576, minimum=1024)

LLM_PROVIDER = env_str("LLM_PROVIDER", "offline").lower()
LLM_MODEL = env_str("LLM_MODEL", "")
# Pacing of the offline model, milliseconds between words (0: as fast as possible).
LLM_OFFLINE_DELAY_MS = env_float("LLM_OFFLINE_DELAY_MS", 0.0)
# Extra model names accepted in requests and answered by the configured provider.
LLM_MODEL_ALIASES = env_list("LLM_MODEL_ALIASES", "")
# Upper bound on agent reasoning steps (tool call + answer rounds) per request.
AGENT_MAX_ITERATIONS = env_int("AGENT_MAX_ITERATIONS", 8, minimum=1)

# --- LLM providers: Bedrock, OpenAI-compatible, WebSocket, fallback ----------------------

# --- Banking skills: verification, confirmations, limits, FAQ ------------------------------
