from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from bank.services.sessions import caller_sessions_expire

DEFAULT_DAYS = 30


class Command(BaseCommand):
    help = (
        "Delete callers' server-side conversation state (verification, its attempts) older "
        "than --days, and verification locks that ended before then. Run it daily, e.g. from "
        "cron; --days must cover VERIFICATION_LOCK_SECONDS."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=DEFAULT_DAYS,
            help=f"Keep this many days of history (default {DEFAULT_DAYS}).",
        )

    def handle(self, *args, days: int, **options):
        if days < 1 or days * 86400 < settings.VERIFICATION_LOCK_SECONDS:
            raise CommandError(
                f"--days {days} is shorter than VERIFICATION_LOCK_SECONDS "
                f"({settings.VERIFICATION_LOCK_SECONDS} s): failed attempts within it still "
                "count towards a lock. Pass a larger --days."
            )
        expired = caller_sessions_expire(older_than=timezone.now() - timedelta(days=days))
        self.stdout.write(
            self.style.SUCCESS(
                f"{expired.sessions} caller session(s) and {expired.locks} ended lock(s) deleted."
            )
        )
