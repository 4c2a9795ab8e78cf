"""Staff views of the bank's data. Cards exist here only as their last four digits."""

from django.contrib import admin

from bank.models import Account, CreditCard, Customer, LoanProduct


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
