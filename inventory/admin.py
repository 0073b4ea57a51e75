from django.contrib import admin

from erp.admin import CompanyScopedAdmin, LedgerAdmin

from .models import (
    Product,
    ProductLine,
    StockLevel,
    StockMovement,
    StockMovementEvent,
    StockMovementLine,
    Warehouse,
)
from .services import audit_stock_movement, cancel_stock_movement, revert_stock_movement


@admin.register(ProductLine)
class ProductLineAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "company"]
    list_filter = ["company"]
    search_fields = ["code", "name"]


@admin.register(Product)
class ProductAdmin(CompanyScopedAdmin):
    list_display = [
        "code", "description", "unit", "sat_product_key", "sat_unit_key", "applies_iva",
        "ieps_rate", "retained_iva_rate", "retained_isr_rate", "list_price", "active",
    ]  # fmt: skip
    list_filter = ["company", "line", "is_service", "applies_iva", "active"]
    search_fields = ["code", "supplier_code", "description", "external_key"]
    fieldsets = [
        (None, {"fields": ["company", "code", "supplier_code", "description", "line", "active"]}),
        ("SAT", {"fields": ["unit", "sat_product_key", "sat_unit_key", "is_service"]}),
        ("Impuestos", {"fields": ["applies_iva", "ieps_rate", "retained_iva_rate", "retained_isr_rate"]}),
        ("Precio y sincronización", {"fields": ["list_price", "external_key"]}),
    ]


@admin.register(Warehouse)
class WarehouseAdmin(CompanyScopedAdmin):
    list_display = [
        "code",
        "short_name",
        "linked_to_accounting",
        "inventory_account",
        "allow_negative_stock",
        "active",
    ]
    list_filter = ["company", "linked_to_accounting", "allow_negative_stock", "active"]
    search_fields = ["code", "short_name"]
    filter_horizontal = ["managers"]
    autocomplete_fields = ["inventory_account"]


class StockMovementLineInline(admin.TabularInline):
    model = StockMovementLine
    extra = 0
    can_delete = False
    fields = ["position", "product", "quantity", "unit_cost", "total_cost"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class StockMovementEventInline(admin.TabularInline):
    model = StockMovementEvent
    extra = 0
    can_delete = False
    fields = ["action", "user", "at"]
    readonly_fields = fields
    verbose_name_plural = "historial (quién y cuándo)"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(StockMovement)
class StockMovementAdmin(LedgerAdmin):
    list_display = [
        "id",
        "date",
        "warehouse",
        "kind",
        "concept",
        "total_cost",
        "status",
        "origin",
        "journal_entry",
    ]
    list_filter = ["company", "warehouse", "kind", "status"]
    search_fields = ["concept", "origin"]
    date_hierarchy = "date"
    list_select_related = ["warehouse", "journal_entry"]
    inlines = [StockMovementLineInline, StockMovementEventInline]
    actions = ["audit_movements", "revert_movements", "cancel_movements"]

    @admin.action(description="Auditar (confirmar el movimiento físico)", permissions=["change"])
    def audit_movements(self, request, queryset):
        self.run_service(request, queryset, audit_stock_movement, "movement", "movimiento(s) auditado(s)")

    @admin.action(description="Revertir (deshacer su efecto en existencias)", permissions=["change"])
    def revert_movements(self, request, queryset):
        self.run_service(request, queryset, revert_stock_movement, "movement", "movimiento(s) revertido(s)")

    @admin.action(description="Cancelar los movimientos seleccionados", permissions=["change"])
    def cancel_movements(self, request, queryset):
        self.run_service(request, queryset, cancel_stock_movement, "movement", "movimiento(s) cancelado(s)")


@admin.register(StockLevel)
class StockLevelAdmin(LedgerAdmin):
    list_display = ["warehouse", "product", "quantity", "average_cost", "company"]
    list_filter = ["company", "warehouse"]
    search_fields = ["product__code", "product__description"]
    list_select_related = ["warehouse", "product", "company"]
