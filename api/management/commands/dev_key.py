"""Create (or reuse) the local development key and print how to call the server.

The raw key is kept in ``.fintalk-dev-key`` (git-ignored) so that ``make run`` prints the
same key every time; only its hash is in the database, as for every key. A database that
has never seen the key (``make run`` with another ``DATABASE_URL``) gets the same key, so a
server already running on the first database keeps accepting the key the file holds. Only a
revoked key is replaced.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from agents.providers import provider_configured
from api.keys import api_key_create
from api.models import ApiKey, api_key_hash

DEV_KEY_NAME = "local-dev"
DEV_KEY_FILE = Path(settings.BASE_DIR) / ".fintalk-dev-key"


def dev_key() -> str:
    """The raw development key: the file's, registered in this database if it is new here;
    a new key (written to the file) when there is no file or the key was revoked."""
    kept = DEV_KEY_FILE.read_text().strip() if DEV_KEY_FILE.exists() else ""
    if kept:
        known = ApiKey.objects.filter(hashed_key=api_key_hash(kept)).first()
        if known is not None and known.revoked_at is None:
            return kept
        if known is None:
            ApiKey.objects.filter(name=DEV_KEY_NAME).delete()
            api_key_create(name=DEV_KEY_NAME, trusted_channel=True, raw_key=kept)
            return kept
    ApiKey.objects.filter(name=DEV_KEY_NAME).delete()
    _, raw_key = api_key_create(name=DEV_KEY_NAME, trusted_channel=True)
    DEV_KEY_FILE.write_text(raw_key + "\n")
    DEV_KEY_FILE.chmod(0o600)
    return raw_key


class Command(BaseCommand):
    help = "Create or reuse the local trusted development key and print usage examples."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host, port, **options):
        key = dev_key()
        provider = provider_configured()
        base = f"http://{host}:{port}"
        self.stdout.write(
            f"""
Fintalk is starting on {base} (provider: {provider.name}, model: {provider.model}).
Local trusted development key (kept in {DEV_KEY_FILE.name}): {key}

Try it with curl (as demo customer Ana Lopez, +14155550101):

  curl -N {base}/v1/chat/completions \\
    -H "Authorization: Bearer {key}" -H "Content-Type: application/json" \\
    -d '{{"messages": [{{"role": "user", "content": "What is my credit card balance?"}}],
         "customer": {{"number": "+14155550101"}}}}'

Or with the OpenAI Python SDK:

  from openai import OpenAI
  client = OpenAI(base_url="{base}/v1", api_key="{key}")
  stream = client.chat.completions.create(
      model="{provider.model}", stream=True,
      messages=[{{"role": "user", "content": "What loan options are available?"}}],
  )
  for chunk in stream:
      print(chunk.choices[0].delta.content or "", end="", flush=True)

Chat page: {base}/   Admin (conversation logs): {base}/admin/   API docs: {base}/api/docs
(log in with a staff user: make superuser creates one)
"""
        )
