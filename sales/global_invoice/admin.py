from django.contrib import admin

from erp.admin import LedgerAdmin

from .models import GlobalInvoice, GlobalInvoiceTicket
from .services import cancel_global_invoice, issue_global_invoice


class GlobalInvoiceTicketInline(admin.TabularInline):
    model = GlobalInvoiceTicket
    extra = 0
    can_delete = False
    fields = ["ticket", "total", "active"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(GlobalInvoice)
class GlobalInvoiceAdmin(LedgerAdmin):
    list_display = [
        "pk", "entity", "periodicity", "date_from", "date_to", "currency", "total", "status", "cfdi_error",
    ]  # fmt: skip
    list_filter = ["company", "entity", "status", "periodicity"]
    date_hierarchy = "date_to"
    list_select_related = ["entity", "currency"]
    inlines = [GlobalInvoiceTicketInline]
    actions = ["issue_global_invoices", "cancel_global_invoices"]

    @admin.action(
        description="Emitir las facturas globales seleccionadas (sellar y timbrar)", permissions=["change"]
    )
    def issue_global_invoices(self, request, queryset):
        self.run_service(
            request, queryset, issue_global_invoice, "global_invoice", "factura(s) global(es) emitida(s)"
        )

    @admin.action(
        description="Cancelar las facturas globales seleccionadas (primero su CFDI ante el SAT)",
        permissions=["change"],
    )
    def cancel_global_invoices(self, request, queryset):
        self.run_service(
            request, queryset, cancel_global_invoice, "global_invoice", "factura(s) global(es) cancelada(s)"
        )
