import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fintalk.settings")

application = get_asgi_application()

from agents.tokens import warm_up  # noqa: E402 - needs the apps loaded above

# Load the tokenizer in each worker at start-up, not during its first request.
warm_up()
