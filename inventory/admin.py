from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from erp.admin import CompanyScopedAdmin, LedgerAdmin
from erp.errors import DomainError
from erp.external import ExternallyOwnedAdminMixin
from erp.roles import companies_with_perm

from .models import (
    Product,
    ProductLine,
    StockLevel,
    StockMovement,
    StockMovementEvent,
    StockMovementLine,
    Warehouse,
)
from .services import (
    audit_stock_movement,
    cancel_stock_movement,
    create_stock_movement,
    revert_stock_movement,
)


@admin.register(ProductLine)
class ProductLineAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "company"]
    list_filter = ["company"]
    search_fields = ["code", "name"]


@admin.register(Product)
class ProductAdmin(ExternallyOwnedAdminMixin, CompanyScopedAdmin):
    list_display = [
        "code", "description", "unit", "sat_product_key", "sat_unit_key", "iva_treatment",
        "tax_operation", "ieps_rate", "ieps_quota", "list_price", "active",
    ]  # fmt: skip
    list_filter = ["company", "line", "is_service", "iva_treatment", "tax_operation", "active"]
    search_fields = ["code", "supplier_code", "description", "external_key"]
    fieldsets = [
        (None, {"fields": ["company", "code", "supplier_code", "description", "line", "active"]}),
        ("SAT", {"fields": ["unit", "sat_product_key", "sat_unit_key", "is_service"]}),
        ("Impuestos", {"fields": ["iva_treatment", "tax_operation", "ieps_rate", "ieps_quota"]}),
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


class MovementHeaderForm(forms.Form):
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), label="Bodega")
    kind = forms.ChoiceField(choices=StockMovement.Kind.choices, label="Tipo")
    date = forms.DateField(label="Fecha", widget=forms.DateInput(attrs={"type": "date"}))
    concept = forms.CharField(max_length=300, label="Concepto")
    origin = forms.CharField(max_length=120, required=False, label="Origen")


class MovementLineForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.none(), required=False, label="Producto")
    quantity = forms.DecimalField(max_digits=18, decimal_places=4, required=False, label="Cantidad")
    unit_cost = forms.DecimalField(
        max_digits=18, decimal_places=6, required=False, label="Costo unitario (entradas)"
    )


MovementLineFormSet = forms.formset_factory(MovementLineForm, extra=8)


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

    def has_add_permission(self, request):
        return admin.ModelAdmin.has_add_permission(self, request)

    def add_view(self, request, form_url="", extra_context=None):
        """Register an entry or exit (adjustments, purchases) through the movement service."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        companies = companies_with_perm(request.user, "inventory.add_stockmovement")
        form = MovementHeaderForm(request.POST or None)
        form.fields["warehouse"].queryset = Warehouse.objects.filter(company__in=companies, active=True)
        lines = MovementLineFormSet(request.POST or None, prefix="lines")
        products = Product.objects.filter(company__in=companies, is_service=False, active=True)
        for line in lines:
            line.fields["product"].queryset = products
        if request.method == "POST" and form.is_valid() and lines.is_valid():
            data = form.cleaned_data
            warehouse = data["warehouse"]
            try:
                movement = create_stock_movement(
                    company=warehouse.company, warehouse=warehouse, kind=data["kind"], date=data["date"],
                    concept=data["concept"], origin=data["origin"], user=request.user,
                    lines=[line for line in lines.cleaned_data if line.get("product")],
                )  # fmt: skip
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, f"Movimiento {movement.pk} registrado.", level=messages.SUCCESS)
                return redirect(reverse("admin:inventory_stockmovement_change", args=[movement.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Registrar movimiento al almacén",
            "form_id": "add-movement",
            "submit_label": "Registrar movimiento",
            "form": form,
            "lines": lines,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/header_lines_form.html", context)


@admin.register(StockLevel)
class StockLevelAdmin(LedgerAdmin):
    list_display = ["warehouse", "product", "quantity", "average_cost", "company"]
    list_filter = ["company", "warehouse"]
    search_fields = ["product__code", "product__description"]
    list_select_related = ["warehouse", "product", "company"]
