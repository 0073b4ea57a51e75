from django.contrib import admin

from erp.admin import LedgerAdmin

from .models import Receivable, ReceivableRecord
from .services import cancel_receivable, cancel_receivable_record


class ReceivableRecordInline(admin.TabularInline):
    model = ReceivableRecord
    extra = 0
    can_delete = False
    fields = ["kind", "date", "amount", "reference", "origin", "status", "created_by", "cancelled_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Receivable)
class ReceivableAdmin(LedgerAdmin):
    list_display = [
        "document_number",
        "customer",
        "date",
        "due_date",
        "currency",
        "amount",
        "balance",
        "status",
    ]
    list_filter = ["company", "status", "currency", "document_type"]
    search_fields = ["document_number", "origin", "customer__name", "customer__rfc"]
    date_hierarchy = "date"
    list_select_related = ["customer", "currency"]
    inlines = [ReceivableRecordInline]
    actions = ["cancel_receivables"]

    @admin.action(description="Cancelar las cuentas por cobrar seleccionadas", permissions=["change"])
    def cancel_receivables(self, request, queryset):
        self.run_service(
            request, queryset, cancel_receivable, "receivable", "cuenta(s) por cobrar cancelada(s)"
        )


@admin.register(ReceivableRecord)
class ReceivableRecordAdmin(LedgerAdmin):
    list_display = ["receivable", "kind", "date", "amount", "reference", "status"]
    list_filter = ["company", "kind", "status"]
    search_fields = ["reference", "origin", "receivable__document_number"]
    list_select_related = ["receivable__customer"]
    actions = ["cancel_records"]

    @admin.action(description="Cancelar los registros seleccionados", permissions=["change"])
    def cancel_records(self, request, queryset):
        self.run_service(request, queryset, cancel_receivable_record, "record", "registro(s) cancelado(s)")
