from django.contrib import admin

from erp.admin import CompanyScopedAdmin

from .models import Product, ProductLine, Warehouse


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
