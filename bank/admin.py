"""Staff views of the bank's data. Cards exist here only as their last four digits."""

from django.contrib import admin, messages
from django.utils import timezone

from bank.models import (
    Account,
    CallerSession,
    CreditCard,
    Customer,
    LoanProduct,
    PendingAction,
    Transaction,
    VerificationAttempt,
    VerificationLock,
)
from bank.services.sessions import verification_lock_lift
from fintalk.admin import ReadOnlyModelAdmin


class AccountInline(admin.TabularInline):
    model = Account
    extra = 0
    fields = ("kind", "nickname", "last4", "balance", "currency")


class CreditCardInline(admin.TabularInline):
    model = CreditCard
    extra = 0
    fields = (
        "brand",
        "last4",
        "credit_limit",
        "current_balance",
        "statement_balance",
        "minimum_payment",
        "payment_due_date",
        "status",
        "currency",
    )


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("full_name", "phone", "postal_code", "created_at")
    search_fields = ("full_name", "phone")
    inlines = (AccountInline, CreditCardInline)


@admin.register(CreditCard)
class CreditCardAdmin(admin.ModelAdmin):
    list_display = (
        "customer",
        "brand",
        "last4",
        "current_balance",
        "credit_limit",
        "status",
        "payment_due_date",
    )
    list_filter = ("status", "brand")
    list_select_related = ("customer",)
    search_fields = ("last4", "customer__full_name", "customer__phone")
    autocomplete_fields = ("customer",)


@admin.register(LoanProduct)
class LoanProductAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "apr_from", "apr_to", "active")
    list_filter = ("kind", "active")
    prepopulated_fields = {"code": ("name",)}


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyModelAdmin):
    list_display = (
        "posted_on",
        "customer",
        "description",
        "amount",
        "currency",
        "account",
        "card",
        "action",
    )
    list_filter = ("category",)
    list_select_related = ("customer", "account", "card", "action")
    search_fields = ("merchant", "description", "customer__full_name")
    date_hierarchy = "posted_on"


@admin.register(PendingAction)
class PendingActionAdmin(ReadOnlyModelAdmin):
    list_display = (
        "created_at",
        "customer",
        "kind",
        "status",
        "amount",
        "currency",
        "effective_on",
        "reference",
    )
    list_filter = ("status", "kind")
    list_select_related = ("customer",)
    search_fields = ("reference", "customer__full_name", "customer__phone")
    fields = (
        "customer",
        "session",
        "kind",
        "status",
        "summary",
        "card",
        "from_account",
        "to_account",
        "amount",
        "currency",
        "effective_on",
        "requested_in_turn",
        "readback_turn",
        "readback_delivered_at",
        "reference",
        "created_at",
        "expires_at",
        "decided_at",
    )
    readonly_fields = fields


class VerificationAttemptInline(admin.TabularInline):
    model = VerificationAttempt
    extra = 0
    fields = ("created_at", "claimed_phone", "outcome", "succeeded", "customer")
    readonly_fields = fields
    can_delete = False


@admin.register(CallerSession)
class CallerSessionAdmin(ReadOnlyModelAdmin):
    list_display = (
        "conversation_key",
        "api_key",
        "customer",
        "verified_at",
        "locked_at",
        "handoff_requested_at",
        "created_at",
    )
    list_filter = ("locked_at", "handoff_requested_at")
    list_select_related = ("api_key", "customer")
    search_fields = ("conversation_key", "customer__full_name")
    inlines = (VerificationAttemptInline,)


class HoldingFilter(admin.SimpleListFilter):
    title = "holding now"
    parameter_name = "holding"

    def lookups(self, request, model_admin):
        return (("yes", "Holding"), ("no", "Ended or lifted"))

    def queryset(self, request, queryset):
        holding = {"lifted_at__isnull": True, "locked_until__gt": timezone.now()}
        if self.value() == "yes":
            return queryset.filter(**holding)
        if self.value() == "no":
            return queryset.exclude(**holding)
        return queryset


@admin.register(VerificationLock)
class VerificationLockAdmin(ReadOnlyModelAdmin):
    """Numbers nobody can verify as after too many failed attempts; staff lift them here
    (select, then "Lift the selected locks") once they have checked who is calling."""

    list_display = (
        "phone",
        "customer",
        "failures",
        "locked_at",
        "locked_until",
        "holding",
        "lifted_at",
        "lifted_by",
    )
    list_filter = (HoldingFilter,)
    list_select_related = ("customer", "lifted_by")
    search_fields = ("phone", "customer__full_name")
    actions = ("lift",)

    @admin.display(boolean=True)
    def holding(self, lock: VerificationLock) -> bool:
        return lock.lifted_at is None and lock.locked_until > timezone.now()

    def has_lift_permission(self, request) -> bool:
        return request.user.has_perm("bank.change_verificationlock")

    @admin.action(description="Lift the selected locks", permissions=["lift"])
    def lift(self, request, queryset):
        now = timezone.now()
        lifted = sum(
            verification_lock_lift(lock=lock, lifted_by_id=request.user.pk, now=now)
            for lock in queryset
        )
        self.message_user(request, f"{lifted} lock(s) lifted.", messages.SUCCESS)
