from django.contrib import admin

from erp.admin import CompanyScopedAdmin, LedgerAdmin

from .models import CashBankAccount, CashMovement
from .services import cancel_cash_movement


class AccountListFilter(admin.RelatedFieldListFilter):
    """The account filter: the user's companies' accounts with their currency (which their name
    shows) in one query, rather than one query per account."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin) or ["code"]
        accounts = CashBankAccount.objects.filter(
            company__in=model_admin._companies(request, CashBankAccount)
        )
        return [(a.pk, str(a)) for a in accounts.select_related("currency").order_by(*ordering)]


@admin.register(CashBankAccount)
class CashBankAccountAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "kind", "currency", "linked_to_accounting", "ledger_account", "active"]
    fields = [
        "company", "code", "name", "kind", "currency", "linked_to_accounting", "ledger_account",
        "bank_name", "sat_bank_code", "account_number", "active",
    ]  # fmt: skip
    list_filter = ["company", "kind", "currency", "linked_to_accounting", "active"]
    search_fields = ["code", "name", "bank_name", "account_number"]
    autocomplete_fields = ["ledger_account"]


@admin.register(CashMovement)
class CashMovementAdmin(LedgerAdmin):
    list_display = [
        "date",
        "account",
        "kind",
        "amount",
        "method",
        "concept",
        "reference",
        "status",
        "journal_entry",
    ]
    list_filter = ["company", ("account", AccountListFilter), "kind", "method", "status"]
    search_fields = ["concept", "reference", "origin", "beneficiary", "check_number"]
    date_hierarchy = "date"
    list_select_related = ["account__currency", "journal_entry"]
    actions = ["cancel_movements"]

    @admin.action(description="Cancelar los movimientos seleccionados", permissions=["change"])
    def cancel_movements(self, request, queryset):
        self.run_service(request, queryset, cancel_cash_movement, "movement", "movimiento(s) cancelado(s)")
