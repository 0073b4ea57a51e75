from django.contrib import admin

from erp.admin import CompanyScopedAdmin, LedgerAdmin
from erp.roles import companies_with_perm

from .models import Account, AccountingVariable, ClosedPeriod, JournalEntry, JournalLine, PaymentRecord
from .services import cancel_journal_entry


@admin.register(Account)
class AccountAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "nature", "sat_grouping_code", "postable", "active", "company"]
    list_filter = ["company", "nature", "postable", "active"]
    search_fields = ["code", "name", "sat_grouping_code"]
    autocomplete_fields = ["parent"]
    ordering = ["company", "code"]


@admin.register(AccountingVariable)
class AccountingVariableAdmin(CompanyScopedAdmin):
    list_display = ["name", "description", "account", "company"]
    list_filter = ["company"]
    search_fields = ["name", "account__code", "account__name"]
    autocomplete_fields = ["account"]


class PaymentRecordInline(admin.TabularInline):
    model = PaymentRecord
    extra = 0
    can_delete = False
    fields = ["kind", "date", "beneficiary", "rfc", "amount", "check_number", "origin_bank", "origin_account",
              "dest_bank", "dest_account", "method", "currency", "exchange_rate"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    extra = 0
    can_delete = False
    fields = [
        "position",
        "account",
        "debit",
        "credit",
        "description",
        "currency",
        "exchange_rate",
        "foreign_amount",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(LedgerAdmin):
    list_display = ["date", "kind", "number", "concept", "total", "status", "origin", "company"]
    list_filter = ["company", "kind", "status", "year", "month"]
    search_fields = ["concept", "origin"]
    date_hierarchy = "date"
    list_select_related = ["company"]
    inlines = [JournalLineInline]
    actions = ["cancel_entries"]

    @admin.action(description="Cancelar las pólizas seleccionadas", permissions=["change"])
    def cancel_entries(self, request, queryset):
        self.run_service(request, queryset, cancel_journal_entry, "entry", "póliza(s) cancelada(s)")


@admin.register(JournalLine)
class JournalLineAdmin(admin.ModelAdmin):
    """E-accounting records under a line (checks, transfers, other methods), read-only."""

    list_display = ["entry", "position", "account", "debit", "credit"]
    list_select_related = ["entry", "account"]
    inlines = [PaymentRecordInline]

    def get_queryset(self, request):
        companies = companies_with_perm(request.user, "accounting.view_journalline")
        return super().get_queryset(request).filter(entry__company__in=companies)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return False  # reached from its entry, not from the index


@admin.register(ClosedPeriod)
class ClosedPeriodAdmin(CompanyScopedAdmin):
    list_display = ["company", "year", "month", "closed_at"]
    list_filter = ["company", "year"]
