from django.contrib import admin

from erp.admin import CompanyScopedAdmin, LedgerAdmin

from .models import CashBankAccount, CashMovement
from .services import cancel_cash_movement


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
    list_filter = ["company", "account", "kind", "method", "status"]
    search_fields = ["concept", "reference", "origin", "beneficiary", "check_number"]
    date_hierarchy = "date"
    list_select_related = ["account", "journal_entry"]
    actions = ["cancel_movements"]

    @admin.action(description="Cancelar los movimientos seleccionados", permissions=["change"])
    def cancel_movements(self, request, queryset):
        self.run_service(request, queryset, cancel_cash_movement, "movement", "movimiento(s) cancelado(s)")
