from django.contrib import admin

from erp.admin import CompanyScopedAdmin

from .models import CashBankAccount


@admin.register(CashBankAccount)
class CashBankAccountAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "kind", "currency", "linked_to_accounting", "ledger_account", "active"]
    list_filter = ["company", "kind", "currency", "linked_to_accounting", "active"]
    search_fields = ["code", "name", "bank_name", "account_number"]
    autocomplete_fields = ["ledger_account"]
