"""Actions that move money or change a card: asked for, confirmed later, done once."""

from django.db import models
from django.db.models import Q

from bank.models.customers import Account, CreditCard, Customer
from bank.models.fields import money_field
from bank.models.sessions import CallerSession


class PendingAction(models.Model):
    """An action the caller asked for, waiting for their "yes" in a later turn.

    It is created ``pending`` with what exactly will happen and its reference number.
    Fintalk's code reads it back to the caller at the end of that answer; once that answer
    has finished, ``readback_turn`` records it, and only the caller's next message can
    confirm it. Confirming does it once (``completed``, or ``scheduled`` for a payment on a
    later day). A conversation has at most one pending action: asking for another (another
    amount, another account) replaces it, and the new one needs its own read-back.
    """

    class Kind(models.TextChoices):
        FREEZE_CARD = "freeze_card", "Freeze a card"
        UNFREEZE_CARD = "unfreeze_card", "Unfreeze a card"
        REPORT_CARD_LOST = "report_card_lost", "Report a card lost and replace it"
        REPORT_CARD_STOLEN = "report_card_stolen", "Report a card stolen and replace it"
        CARD_PAYMENT = "card_payment", "Pay a credit card"
        TRANSFER = "transfer", "Transfer between own accounts"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        COMPLETED = "completed", "Completed"
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"
        REFUSED = "refused", "Refused when confirmed"

    MONEY_KINDS = (Kind.CARD_PAYMENT, Kind.TRANSFER)
    DONE = (Status.COMPLETED, Status.SCHEDULED)

    session = models.ForeignKey(
        CallerSession, null=True, on_delete=models.SET_NULL, related_name="actions"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    card = models.ForeignKey(
        CreditCard, null=True, blank=True, on_delete=models.CASCADE, related_name="actions"
    )
    from_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="outgoing_actions"
    )
    to_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="incoming_actions"
    )
    amount = money_field(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    effective_on = models.DateField(
        null=True, blank=True, help_text="The day money moves; counts against that day's limit."
    )
    summary = models.CharField(
        max_length=300, help_text="What will be done, as told to the caller."
    )
    requested_in_turn = models.PositiveIntegerField(
        help_text="The caller's turn (count of their messages) that asked for it; the "
        "confirmation must come in a later one."
    )
    reference = models.CharField(max_length=16, unique=True, null=True, blank=True)
    readback_turn = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The caller's turn whose answer delivered the read-back and finished; only "
        "their next turn can confirm. Empty: the caller has not heard it.",
    )
    readback_delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("session",),
                condition=Q(status="pending"),
                name="bank_pendingaction_one_pending_per_session",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0),
                name="bank_pendingaction_amount_positive",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=("completed", "scheduled")) | Q(reference__isnull=False),
                name="bank_pendingaction_done_has_reference",
            ),
        ]
        indexes = [models.Index(fields=("customer", "effective_on"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"
