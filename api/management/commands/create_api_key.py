from django.core.management.base import BaseCommand, CommandError

from api.keys import api_key_create
from api.models import ApiKey


class Command(BaseCommand):
    help = "Create an API key and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A unique name for the caller, e.g. vapi-gateway.")
        parser.add_argument(
            "--trusted-channel",
            action="store_true",
            help="Let this caller assert the customer's identity (Vapi, the bank's front end).",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print only the key (for scripts)."
        )

    def handle(self, *args, name, trusted_channel, quiet, **options):
        if ApiKey.objects.filter(name=name).exists():
            raise CommandError(f"An API key named {name!r} already exists; pick another name.")
        key, raw_key = api_key_create(name=name, trusted_channel=trusted_channel)
        if quiet:
            self.stdout.write(raw_key)
            return
        kind = "trusted channel" if key.trusted_channel else "standard"
        self.stdout.write(f"Created {kind} API key {key.name!r}. It is shown only once:\n")
        self.stdout.write(raw_key)
