from django.contrib import admin

from erp.admin import CompanyScopedAdmin

from .models import Customer, SalesEntity, Salesperson
from .receivables import admin as receivables_admin  # noqa: F401  (registers the receivables screens)
from .services import save_sales_entity


@admin.register(Salesperson)
class SalespersonAdmin(CompanyScopedAdmin):
    list_display = ["number", "name", "active", "company"]
    list_filter = ["company", "active"]
    search_fields = ["name"]


@admin.register(SalesEntity)
class SalesEntityAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "series", "next_number", "mode", "iva_rate", "warehouse", "active"]
    list_filter = ["company", "mode", "no_stock_movements", "active"]
    search_fields = ["code", "name", "series"]
    filter_horizontal = ["cash_accounts"]

    def save_model(self, request, obj, form, change):
        save_sales_entity(entity=obj)


@admin.register(Customer)
class CustomerAdmin(CompanyScopedAdmin):
    list_display = [
        "entity",
        "number",
        "name",
        "rfc",
        "regimen_fiscal",
        "uso_cfdi",
        "credit_days",
        "salesperson",
        "active",
    ]
    list_filter = ["company", "entity", "regimen_fiscal", "uso_cfdi", "active"]
    search_fields = ["name", "rfc", "email", "external_key"]
    list_select_related = ["entity", "salesperson"]
    fieldsets = [
        (None, {"fields": ["company", "entity", "number", "name", "rfc", "active"]}),
        ("Domicilio", {"fields": ["address", "colonia", "poblacion", "postal_code", "phones", "email"]}),
        ("Datos fiscales", {"fields": ["regimen_fiscal", "uso_cfdi", "forma_pago"]}),
        ("Crédito y venta", {"fields": ["credit_days", "general_discount", "salesperson", "external_key"]}),
    ]
