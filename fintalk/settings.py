"""Django settings for Fintalk.

All configuration comes from environment variables (listed in the README), read once here
through ``fintalk.env`` so that a bad value fails at start-up with a clear message.
"""

import logging
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

from fintalk.env import env_bool, env_float, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value, e.g. the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))' (make run and "
            "make test keep one in .fintalk-secret-key), or set DJANGO_DEBUG=true for local "
            "debugging only."
        )
    SECRET_KEY = "fintalk-insecure-debug-only-key"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "bank",
    "conversations",
    "agents",
    "api",
    "mqtt_bridge",
    "evals",
    "web",
]

MIDDLEWARE = [
    "fintalk.middleware.AsyncSecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "fintalk.middleware.BrowserOnlyMiddleware",
]
# The session, auth, messages, CSRF and frame-options middleware run inside
# ``BrowserOnlyMiddleware`` and security headers come from ``AsyncSecurityMiddleware``
# (fintalk/middleware.py), where Django's checks, which look for the class paths, cannot
# see them.
SILENCED_SYSTEM_CHECKS = [
    "admin.E408",
    "admin.E409",
    "admin.E410",
    "security.W001",
    "security.W002",
    "security.W003",
]

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
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # An unreachable Redis must cost a request half a second, not a hung worker.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
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
# Optional: a collectstatic target. Without one, WhiteNoise serves the admin's files
# straight from the installed apps.
STATIC_ROOT = env_str("DJANGO_STATIC_ROOT", "") or None
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.IgnoreAcceptNegotiation",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Fintalk",
    "DESCRIPTION": "OpenAI-compatible chat completions answered by the bank's assistant.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": [],
    "APPEND_COMPONENTS": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    },
    "SECURITY": [{"bearerAuth": []}],
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["api.openapi.drop_trailing_slash_twins"],
    # Swagger UI and ReDoc from the installed drf-spectacular-sidecar files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ResponseFormatTypeEnum": "api.serializers.RESPONSE_FORMATS",
        "FunctionTypeEnum": ["function"],
    },
}

LOG_FORMAT = env_str("LOG_FORMAT", "plain").lower()
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL.")
# Third-party loggers that write request or response bodies below INFO.
PAYLOAD_LOGGERS = (
    "openai",
    "httpcore",
    "botocore",
    "boto3",
    "urllib3",
    "aiohttp",
    "websockets",
    "aiomqtt",
    "paho",
    "llama_index",
    "workflows",
    "django.db.backends",
)
_QUIET_LEVEL = max(logging.getLevelName(LOG_LEVEL), logging.INFO)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "fintalk.observability.RequestIdFilter"},
        "card_numbers": {"()": "fintalk.masking.CardNumberLogFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "fintalk.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            # No log line shows a whole card number, whoever wrote it.
            "filters": ["request_id", "card_numbers"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # httpx logs every upstream request at INFO: one line per answer, nothing to act on.
        "httpx": {"level": "WARNING"},
        # Never the caller's words in a log, whatever LOG_LEVEL says: at DEBUG these write
        # request bodies (openai's "Request options", botocore's params, websockets' frames,
        # SQL parameters, LlamaIndex's prompts).
        **{name: {"level": _QUIET_LEVEL} for name in PAYLOAD_LOGGERS},
    },
}
# Server-side history of the session endpoints (/api/llm/chat/session/stream), kept in
# the cache (Redis with REDIS_URL, so every worker sees it): lifetime and length.
SESSION_HISTORY_TTL_SECONDS = env_int("SESSION_HISTORY_TTL_SECONDS", 3600, minimum=60)
SESSION_HISTORY_MAX_MESSAGES = env_int("SESSION_HISTORY_MAX_MESSAGES", 40, minimum=2)
# /metrics: with a token, callers must send it as a bearer key; without one, only the
# machine itself (127.0.0.1, ::1) may read it.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# OpenTelemetry traces (fintalk/tracing.py): exported over OTLP/HTTP to this collector
# (e.g. http://127.0.0.1:4318) when set; unset, tracing is not set up at all. The SDK's
# other OTEL_* variables (headers, timeouts, batching) apply as documented upstream.
OTEL_EXPORTER_OTLP_ENDPOINT = (
    env_url("OTEL_EXPORTER_OTLP_ENDPOINT", "", schemes=("http", "https"), example="http://127.0.0.1:4318")
    if env_str("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    else ""
)
OTEL_SERVICE_NAME = env_str("OTEL_SERVICE_NAME", "fintalk")
# Traces carry the conversation's words, tool arguments and results only when true.
TRACE_CONTENT = env_bool("TRACE_CONTENT", False)

# --- Fintalk ---------------------------------------------------------------------------
FINTALK_BANK_NAME = env_str("FINTALK_BANK_NAME", "Fintalk Bank")
# The staff chat page at / (and its login-cookie access to the session stream).
FINTALK_CHAT_PAGE = env_bool("FINTALK_CHAT_PAGE", True)
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

# --- HTTPS, proxies and browsers ----------------------------------------------------------
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Served over HTTPS: redirect plain HTTP (health probes excepted), HSTS, secure cookies.
HTTPS_ONLY = env_bool("DJANGO_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000) if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The bank's web front end: origins allowed to call the API from a browser.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
CORS_URLS_REGEX = r"^/(api|v1)/.*$"
# Browsers may send the conversation header (see agents/caller.py) and read the request id.
CORS_ALLOW_HEADERS = (*default_cors_headers, "x-conversation-id", "x-request-id")
CORS_EXPOSE_HEADERS = ["X-Request-ID"]

# Seconds an authenticated API key is remembered by a worker (0: look it up every time);
# revocation and new limits take effect within this time.
API_KEY_CACHE_SECONDS = env_float("API_KEY_CACHE_SECONDS", 10.0)

# Prices used to estimate what conversations cost, in US dollars per million tokens
# (defaults: Amazon Nova Lite's published on-demand prices).
LLM_PRICE_PROMPT_PER_MILLION = env_float("LLM_PRICE_PROMPT_PER_MILLION", 0.06)
LLM_PRICE_COMPLETION_PER_MILLION = env_float("LLM_PRICE_COMPLETION_PER_MILLION", 0.24)
# Conversation logs are written by one background thread per process: it waits this many
# milliseconds after a finished turn for others, then writes them in one transaction.
CONVERSATION_LOG_BATCH_MS = env_float("CONVERSATION_LOG_BATCH_MS", 50.0)

# --- Limits ----------------------------------------------------------------------------------
# Requests per minute per API key and per client IP (0 turns a limit off); an API key's
# own limits, set in the admin, take precedence.
RATE_LIMIT_KEY_PER_MINUTE = env_int("RATE_LIMIT_KEY_PER_MINUTE", 3000)
RATE_LIMIT_IP_PER_MINUTE = env_int("RATE_LIMIT_IP_PER_MINUTE", 0)
TOKEN_BUDGET_PER_DAY = env_int("TOKEN_BUDGET_PER_DAY", 0)
# Take the client IP from the first X-Forwarded-For address (only behind a trusted proxy).
RATE_LIMIT_TRUST_FORWARDED_FOR = env_bool("RATE_LIMIT_TRUST_FORWARDED_FOR", False)
MAX_MESSAGES = env_int("FINTALK_MAX_MESSAGES", 200, minimum=1)
MAX_MESSAGE_CHARS = env_int("FINTALK_MAX_MESSAGE_CHARS", 32_000, minimum=1)
MAX_TOOLS = env_int("FINTALK_MAX_TOOLS", 64, minimum=0)
# Deepest nesting of arrays and objects in a request body, checked before parsing.
MAX_JSON_DEPTH = env_int("FINTALK_MAX_JSON_DEPTH", 64, minimum=8, maximum=500)
# Deadlines, in seconds: until the first token, and for the whole answer.
FIRST_TOKEN_TIMEOUT = env_float("FINTALK_FIRST_TOKEN_TIMEOUT", 30.0, minimum=0.01)
REQUEST_TIMEOUT = env_float("FINTALK_REQUEST_TIMEOUT", 300.0, minimum=0.01)
# An SSE comment after this many idle seconds, so proxies keep slow streams open.
SSE_KEEPALIVE_SECONDS = env_float("FINTALK_SSE_KEEPALIVE_SECONDS", 10.0, minimum=0.01)

# --- LLM providers: Bedrock, OpenAI-compatible, WebSocket, fallback ----------------------
# Providers that answer, in order, when the one before fails before its first word
# (e.g. ``openai,offline``); an entry may name its own model: ``bedrock=amazon.nova-micro-v1:0``.
LLM_FALLBACKS = env_list("LLM_FALLBACKS", "")
# The OpenAI-compatible server's base URL, ending in /v1 (LLM_PROVIDER=openai).
LLM_API_ENDPOINT = env_str("LLM_API_ENDPOINT", "")
# Bearer key for the openai and websocket providers; never logged.
LLM_API_KEY = env_str("LLM_API_KEY", "")
# false: accept any TLS certificate (self-signed gateways); logged loudly at start-up.
LLM_VERIFY_SSL = env_bool("LLM_VERIFY_SSL", True)
# false: ask the upstream for whole replies (for servers that cannot stream).
LLM_STREAM = env_bool("LLM_STREAM", True)
# Seconds to wait for the upstream to connect or send its next piece.
LLM_TIMEOUT = env_float("LLM_TIMEOUT", 30.0, minimum=0.1)
# Retries of a request that failed before its first word (with backoff).
LLM_MAX_RETRIES = env_int("LLM_MAX_RETRIES", 2)
# Output budget asked of a real model per step (tool calls and Nova's reasoning count too).
LLM_MAX_TOKENS = env_int("LLM_MAX_TOKENS", 2048, minimum=16)
# false: offer the upstream no tools (for servers without tool calling, or that are agents).
LLM_TOOL_CALLING = env_bool("LLM_TOOL_CALLING", True)
# Model streams one worker process holds open at once: the openai provider's connection
# pool, Bedrock's threads and botocore connections. Past it, further calls wait their turn.
LLM_MAX_CONCURRENT_STREAMS = env_int("LLM_MAX_CONCURRENT_STREAMS", 256, minimum=1)
# ws:// or wss:// URLs of the WebSocket LLM, tried in order (LLM_PROVIDER=websocket).
LLM_WEBSOCKET_URL = env_list("LLM_WEBSOCKET_URL", "")
# Bedrock: credentials come from boto3's chain (env, AWS_PROFILE, SSO, instance/task role).
AWS_REGION = env_str("AWS_REGION", "") or env_str("AWS_DEFAULT_REGION", "")
BEDROCK_GUARDRAIL_ID = env_str("BEDROCK_GUARDRAIL_ID", "")
BEDROCK_GUARDRAIL_VERSION = env_str("BEDROCK_GUARDRAIL_VERSION", "")

# --- Banking skills: verification, confirmations, limits, FAQ ------------------------------
# Failed verification attempts after which a conversation is locked (offered a human).
BANK_VERIFICATION_MAX_ATTEMPTS = env_int("BANK_VERIFICATION_MAX_ATTEMPTS", 3, minimum=1)
# Failed verification attempts for one claimed phone number, across conversations and API
# keys, within VERIFICATION_LOCK_SECONDS, after which nobody can verify as that number until
# the lock ends (VERIFICATION_LOCK_SECONDS later) or staff lift it in the admin.
VERIFICATION_MAX_FAILURES = env_int("VERIFICATION_MAX_FAILURES", 5, minimum=1)
VERIFICATION_LOCK_SECONDS = env_int("VERIFICATION_LOCK_SECONDS", 86400, minimum=60)
# Minutes a verified conversation stays verified.
BANK_VERIFICATION_TTL_MINUTES = env_int("BANK_VERIFICATION_TTL_MINUTES", 60, minimum=1)
# Seconds a requested payment, transfer or card change waits for the caller's "yes".
BANK_CONFIRMATION_TTL_SECONDS = env_int("BANK_CONFIRMATION_TTL_SECONDS", 300, minimum=10)
# Most a customer may move per day (card payments and transfers together), whole units of
# the account's currency.
BANK_DAILY_TRANSFER_LIMIT = env_int("BANK_DAILY_TRANSFER_LIMIT", 5000, minimum=1)
# The number a caller is given for a human colleague (hand-off, locked verification).
BANK_SUPPORT_PHONE = env_str("BANK_SUPPORT_PHONE", "+1 800 555 0199")

# --- MQTT bridge (python manage.py mqtt_bridge) ------------------------------------------------
# The broker: mqtt://host:1883, or mqtts://host:8883 with TLS; user:password@ in the URL.
MQTT_URL = env_url(
    "MQTT_URL",
    "mqtt://127.0.0.1:1883",
    schemes=("mqtt", "mqtts"),
    example="mqtt://user:password@broker.example.com:1883",
)
# A CA bundle (PEM) for mqtts:// brokers whose certificate the system's CAs do not sign.
MQTT_CA_FILE = env_str("MQTT_CA_FILE", "")
if MQTT_CA_FILE and not Path(MQTT_CA_FILE).is_file():
    raise ImproperlyConfigured(f"MQTT_CA_FILE={MQTT_CA_FILE!r} is not a file; point it at a PEM CA bundle.")


def _mqtt_topic_part(name: str, default: str, *, levels: bool) -> str:
    value = env_str(name, default)
    if not value or any(c in value for c in "+#\0") or value.startswith("$") or (not levels and "/" in value):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not usable: it must be non-empty, without the wildcards + and #"
            f"{'' if levels else ' or /'}, and must not start with $ (e.g. {default})."
        )
    return value


# Where requests are published; the bridge subscribes to $share/<MQTT_SHARED_GROUP>/<topic>.
MQTT_REQUEST_TOPIC = _mqtt_topic_part("MQTT_REQUEST_TOPIC", "fintalk/v1/chat/completions", levels=True)
# Bridge processes in one shared group split the requests between them (the broker decides).
MQTT_SHARED_GROUP = _mqtt_topic_part("MQTT_SHARED_GROUP", "fintalk", levels=False)
# The bridge's MQTT client id; empty: fintalk-bridge-<host>-<pid>. Give each replica a
# stable id so that a restarted replica resumes the requests the broker kept for it.
MQTT_CLIENT_ID = env_str("MQTT_CLIENT_ID", "")
# Seconds the broker keeps the bridge's session (its subscription and unanswered requests)
# across a dropped connection; 0: nothing is kept.
MQTT_SESSION_EXPIRY_SECONDS = env_int("MQTT_SESSION_EXPIRY_SECONDS", 60)
# Largest request accepted and largest answer message sent, in bytes.
MQTT_MAX_MESSAGE_BYTES = env_int("MQTT_MAX_MESSAGE_BYTES", 262_144, minimum=4096)
# Requests one bridge process answers at once; the broker holds the rest (MQTT 5 Receive Maximum).
MQTT_MAX_IN_FLIGHT = env_int("MQTT_MAX_IN_FLIGHT", 64, minimum=1)
if MQTT_MAX_IN_FLIGHT > 65_535:
    raise ImproperlyConfigured(f"MQTT_MAX_IN_FLIGHT={MQTT_MAX_IN_FLIGHT} is above MQTT's limit of 65535.")
# Longest pause between reconnection attempts, in seconds (the pause doubles from 0.5 s).
MQTT_RECONNECT_MAX_SECONDS = env_float("MQTT_RECONNECT_MAX_SECONDS", 30.0, minimum=0.1)
