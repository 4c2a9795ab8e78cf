"""What the bank knows about the caller of one conversation, kept on the server.

Clients resend the whole history on every turn (OpenAI clients and Vapi do), and anything
in that history can be typed by the caller. So whether the caller has been verified, how
often they failed, and what they asked us to do live here, keyed by the conversation's
identity within one API key — never in the messages.
"""

from django.conf import settings
from django.db import models


class CallerSession(models.Model):
    """One conversation, as the API key that carries it names it (see ``agents.caller``)."""

    api_key = models.ForeignKey("api.ApiKey", on_delete=models.CASCADE, related_name="+")
    conversation_key = models.CharField(
        max_length=300,
        help_text='How the client names the conversation, e.g. "call:<Vapi call id>".',
    )
    customer = models.ForeignKey(
        "bank.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sessions",
        help_text="The customer this conversation was verified as, if any.",
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(
        null=True, blank=True, help_text="Set after too many failed verification attempts."
    )
    handoff_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("api_key", "conversation_key"), name="bank_callersession_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return self.conversation_key


class VerificationAttempt(models.Model):
    """One try at verifying a caller. What they said is not kept: only how it ended.

    Failures count against the conversation (``BANK_VERIFICATION_MAX_ATTEMPTS``) and against
    the claimed phone number across conversations and API keys (``VerificationLock``).
    """

    class Outcome(models.TextChoices):
        MATCHED = "matched", "Matched"
        MISMATCH = "mismatch", "Did not match"
        NOT_SAID = "not_said", "Details the caller never said"
        LOCKED = "locked", "Refused: the number is locked"

    session = models.ForeignKey(
        CallerSession, on_delete=models.CASCADE, related_name="verification_attempts"
    )
    claimed_phone = models.CharField(max_length=16, blank=True, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.MISMATCH)
    customer = models.ForeignKey(
        "bank.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The customer the attempt verified (empty when it failed).",
    )
    succeeded = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{'verified' if self.succeeded else 'failed'} {self.created_at:%Y-%m-%d %H:%M:%S}"


class VerificationLock(models.Model):
    """A phone number nobody may verify as, after too many failed attempts for it.

    Set after ``VERIFICATION_MAX_FAILURES`` failures within ``VERIFICATION_LOCK_SECONDS``,
    counted across conversations and API keys; it lasts ``VERIFICATION_LOCK_SECONDS``
    unless staff lift it in the admin. Keyed by the claimed number, so that a number that
    is no customer's locks the same way (the lock tells nothing about who banks here).
    """

    phone = models.CharField(max_length=16, db_index=True)
    customer = models.ForeignKey(
        "bank.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="verification_locks",
        help_text="The customer registered to the number, if any.",
    )
    failures = models.PositiveIntegerField(help_text="Failed attempts that set the lock.")
    locked_at = models.DateTimeField()
    locked_until = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-locked_at",)

    def __str__(self) -> str:
        return f"{self.phone} locked {self.locked_at:%Y-%m-%d %H:%M}"

    def ends_at(self):
        """When the lock stopped (or will stop) holding: lifted, or run out."""
        return min(self.lifted_at, self.locked_until) if self.lifted_at else self.locked_until
