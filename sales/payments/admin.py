from django.contrib import admin

from erp.admin import LedgerAdmin

from .models import AdvanceApplication, CustomerAdvance, CustomerPayment, PaymentApplication
from .selectors import without_complement
from .services import cancel_payment, post_payment


class PaymentApplicationInline(admin.TabularInline):
    model = PaymentApplication
    extra = 0
    can_delete = False
    fields = ["invoice", "amount", "installment", "previous_balance", "receivable_record"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class MissingComplementFilter(admin.SimpleListFilter):
    title = "complemento de pago"
    parameter_name = "complemento"

    def lookups(self, request, model_admin):
        return [("falta", "Falta el complemento (plazo: día 5 del mes siguiente)")]

    def queryset(self, request, queryset):
        if self.value() == "falta":
            return without_complement(queryset)
        return queryset


@admin.register(CustomerPayment)
class CustomerPaymentAdmin(LedgerAdmin):
    list_display = [
        "pk",
        "customer",
        "date",
        "account",
        "currency",
        "amount",
        "advance",
        "payment_form",
        "status",
        "cfdi_error",
    ]
    list_filter = ["company", "status", "currency", MissingComplementFilter]
    search_fields = ["customer__name", "customer__rfc", "operation_number"]
    date_hierarchy = "date"
    list_select_related = ["customer", "account__currency", "currency"]
    inlines = [PaymentApplicationInline]
    actions = ["post_payments", "cancel_payments"]

    @admin.action(
        description="Aplicar los pagos seleccionados (emite su complemento)", permissions=["change"]
    )
    def post_payments(self, request, queryset):
        self.run_service(request, queryset, post_payment, "payment", "pago(s) aplicado(s)")

    @admin.action(
        description="Cancelar los pagos seleccionados (primero su complemento ante el SAT)",
        permissions=["change"],
    )
    def cancel_payments(self, request, queryset):
        self.run_service(request, queryset, cancel_payment, "payment", "pago(s) cancelado(s)")


class AdvanceApplicationInline(admin.TabularInline):
    model = AdvanceApplication
    extra = 0
    can_delete = False
    fields = ["invoice", "date", "amount", "receivable_record"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CustomerAdvance)
class CustomerAdvanceAdmin(LedgerAdmin):
    """Anticipos de clientes; se aplican a facturas por la API (/api/sales/advances/ID/apply/)."""

    list_display = ["pk", "customer", "date", "currency", "amount", "balance", "status"]
    list_filter = ["company", "status", "currency"]
    search_fields = ["customer__name", "customer__rfc"]
    date_hierarchy = "date"
    list_select_related = ["customer", "currency"]
    inlines = [AdvanceApplicationInline]
