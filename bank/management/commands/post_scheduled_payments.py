from django.core.management.base import BaseCommand
from django.utils import timezone

from bank.services.actions import scheduled_payments_post


class Command(BaseCommand):
    help = (
        "Make the scheduled credit card payments that are due (run it daily, e.g. from cron); "
        "running it again pays nothing twice."
    )

    def handle(self, *args, **options):
        made = scheduled_payments_post(today=timezone.localdate())
        self.stdout.write(self.style.SUCCESS(f"{len(made)} scheduled payment(s) made."))
