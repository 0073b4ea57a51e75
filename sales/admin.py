from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from erp.admin import CompanyScopedAdmin, tracking_tree
from erp.errors import DomainError
from erp.external import ExternallyOwnedAdminMixin
from erp.roles import companies_with_perm

from .cancellation import cancel_invoice_and_cfdi, track_document
from .cfdi_import.admin import ExternalCfdiFilesAdmin, invoice_cfdi_files
from .document_models import DocumentStatus
from .external_cfdi import load_external_cfdi
from .global_invoice import admin as global_invoice_admin  # noqa: F401  (registers «Facturas globales»)
from .global_invoice.services import issue_current_global_invoice
from .integrity import verify_books
from .invoice_cfdi import cfdi_column
from .models import Customer, ExternalCfdi, SalesDocument, SalesDocumentLine, SalesEntity, Salesperson
from .payments import admin as payments_admin  # noqa: F401  (registers the payments screens)
from .posting import post_invoice
from .receivables import admin as receivables_admin  # noqa: F401  (registers the receivables screens)
from .returns import admin as returns_admin  # noqa: F401  (registers "Devoluciones sobre ventas")
from .services import save_sales_entity

# The cashier's colours: black generated or emitted, blue reverted, red cancelled, grey drafts.
STATUS_COLOURS = {"reverted": "#1f5fbf", "cancelled": "#c0392b", "draft": "#777"}


@admin.register(Salesperson)
class SalespersonAdmin(CompanyScopedAdmin):
    list_display = ["number", "name", "active", "company"]
    list_filter = ["company", "active"]
    search_fields = ["name"]


@admin.register(SalesEntity)
class SalesEntityAdmin(CompanyScopedAdmin):
    list_display = [
        "code", "name", "series", "next_number", "mode", "iva_rate", "postal_code", "warehouse", "active",
    ]  # fmt: skip
    list_filter = ["company", "mode", "no_stock_movements", "active"]
    search_fields = ["code", "name", "series"]
    filter_horizontal = ["cash_accounts"]
    list_select_related = ["warehouse"]
    actions = ["issue_global_invoice"]

    def save_model(self, request, obj, form, change):
        save_sales_entity(entity=obj)

    @admin.action(
        description="Factura global: emitir la de los tickets sin facturar del periodo en curso",
        permissions=["change"],
    )
    def issue_global_invoice(self, request, queryset):
        for entity in queryset.select_related("company"):
            try:
                global_invoice = issue_current_global_invoice(entity=entity, user=request.user)
            except DomainError as error:
                self.message_user(request, f"{entity}: {error.message}", level=messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{entity}: factura global {global_invoice.pk} de {global_invoice.tickets.count()} ticket(s) "
                    f"por {global_invoice.total:,.2f}.",
                    level=messages.SUCCESS,
                )


@admin.register(Customer)
class CustomerAdmin(ExternallyOwnedAdminMixin, CompanyScopedAdmin):
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


class SalesDocumentLineInline(admin.TabularInline):
    model = SalesDocumentLine
    extra = 0
    can_delete = False
    fields = [
        "position",
        "quantity",
        "unit",
        "code",
        "description",
        "unit_price",
        "importe",
        "discount",
        "iva",
        "ieps",
        "retained_iva",
        "retained_isr",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SalesDocument)
class SalesDocumentAdmin(CompanyScopedAdmin):
    """The seed's list: Núm., Fecha, Ref, ST, Total, Cliente, origin reference, CFDI. Documents are
    made and changed only through their services (screens and API), so here they are read-only."""

    # Status and total first after the number, so that at 1366 px they are never cut off; the
    # long texts (customer, references) come last and are shortened.
    list_display = ["folio", "date", "st", "total_shown", "customer_shown", "kind", "entity", "refs", "cfdi"]
    list_display_links = ["folio"]
    list_filter = ["kind", "status", "entity", "payment"]
    search_fields = ["customer_name", "customer_rfc", "reference", "origin_ref"]
    date_hierarchy = "date"
    list_select_related = ["entity", "currency", "stock_movement"]
    inlines = [SalesDocumentLineInline]
    change_list_template = "admin/sales/salesdocument/change_list.html"

    def get_urls(self):
        verify = path(
            "verificar-integridad/",
            self.admin_site.admin_view(self.verify_books_view),
            name="sales_verify_books",
        )
        return [verify, *super().get_urls()]

    def verify_books_view(self, request):
        """«Verificar integridad»: each invariant of the books, per company the accountant keeps."""
        companies = companies_with_perm(request.user, "accounting.view_journalentry").order_by("pk")
        if not companies.exists():
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Verificar integridad",
            "reports": verify_books(companies),
        }
        return TemplateResponse(request, "admin/verify_books.html", context)

    def get_changelist_instance(self, request):
        # The CFDI column by the same rule as the API and the cashier list (own CFDI or one
        # stamped elsewhere and linked), for the whole page in two queries.
        changelist = super().get_changelist_instance(request)
        changelist.result_list = list(changelist.result_list)
        columns = cfdi_column(changelist.result_list)
        for document in changelist.result_list:
            document.cfdi_column = columns.get(document.pk, "---")
        return changelist

    @admin.display(description="CFDI")
    def cfdi(self, obj):
        return obj.cfdi_column

    @admin.display(description="ST", ordering="status")
    def st(self, obj):
        status = obj.effective_status
        return format_html(
            '<span class="st st-{}" style="color: {}; white-space: nowrap">{}</span>',
            status,
            STATUS_COLOURS.get(status, "inherit"),
            DocumentStatus(status).label,
        )

    @admin.display(description="Total", ordering="total")
    def total_shown(self, obj):
        return format_html(
            '<span style="white-space: nowrap">{} {}</span>', f"{obj.total:,.2f}", obj.currency.code
        )

    @admin.display(description="Cliente", ordering="customer_name")
    def customer_shown(self, obj):
        name = obj.customer_name
        return format_html('<span title="{}">{}</span>', name, name if len(name) <= 40 else name[:39] + "…")

    @admin.display(description="Referencias")
    def refs(self, obj):
        return " / ".join(ref for ref in (obj.reference, obj.origin_ref) if ref) or "—"

    actions = ["post_selected", "cancel_selected", "cancel_not_carried_out"]

    @admin.display(description="Núm.", ordering="number")
    def folio(self, obj):
        return f"{obj.series}{obj.number}" if obj.number else "—"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in SalesDocument._meta.fields] + ["tracking", "cfdi_files"]

    @admin.display(description="Archivos del CFDI")
    def cfdi_files(self, obj):
        return invoice_cfdi_files(obj) if obj and obj.pk else "—"

    @admin.display(description="Rastreo")
    def tracking(self, obj):
        """The seed's "Rastrear": every record the document produced or is linked to."""

        return tracking_tree(track_document(obj) if obj and obj.pk else None)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description="Agregar (contabilizar) las facturas a crédito o sin pago seleccionadas",
        permissions=["change"],
    )
    def post_selected(self, request, queryset):
        posted = 0
        drafts = queryset.filter(kind="invoice", status="draft")
        # A contado invoice needs the cash or bank accounts it is collected into: the admin does
        # not ask for them, so it says where to post it instead of skipping it silently.
        for document in drafts.filter(payment="cash").select_related("entity").order_by("pk"):
            url = reverse("sales:invoice-list-entity", args=[document.entity_id])
            self.message_user(
                request,
                format_html(
                    '{}: es de contado; contabilícela desde la <a href="{}">caja</a>, donde se indican '
                    "las cuentas de efectivo o banco en que se cobra.",
                    document,
                    url,
                ),
                messages.WARNING,
            )
        skipped = queryset.exclude(pk__in=drafts.values("pk")).count()
        if skipped:
            self.message_user(
                request,
                f"{skipped} documento(s) no son facturas en borrador y no se contabilizaron.",
                messages.WARNING,
            )
        for document in drafts.exclude(payment="cash").order_by("date", "pk"):
            try:
                post_invoice(document=document, user=request.user)
                posted += 1
            except DomainError as exc:
                self.message_user(request, f"{document}: {exc.message}", messages.ERROR)
        if posted:
            self.message_user(request, f"{posted} factura(s) contabilizada(s).", messages.SUCCESS)

    def _cancel(self, request, queryset, motive):
        cancelled = 0
        for document in queryset.filter(kind="invoice").exclude(status="cancelled").order_by("pk"):
            try:
                cancel_invoice_and_cfdi(document=document, motive=motive, user=request.user)
                cancelled += 1
            except DomainError as exc:
                self.message_user(request, f"{document}: {exc.message}", messages.ERROR)
        if cancelled:
            self.message_user(request, f"{cancelled} factura(s) cancelada(s).", messages.SUCCESS)

    @admin.action(
        description="Cancelar las facturas (CFDI con motivo 02: comprobante emitido con errores sin relación)",
        permissions=["change"],
    )
    def cancel_selected(self, request, queryset):
        self._cancel(request, queryset, "02")

    @admin.action(
        description="Cancelar las facturas (CFDI con motivo 03: no se llevó a cabo la operación)",
        permissions=["change"],
    )
    def cancel_not_carried_out(self, request, queryset):
        self._cancel(request, queryset, "03")


@admin.register(ExternalCfdi)
class ExternalCfdiAdmin(ExternalCfdiFilesAdmin, CompanyScopedAdmin):
    """CFDIs stamped by another PAC: loaded through the API or the cashier screens, read here."""

    list_display = [
        "uuid",
        "entity",
        "doc_type",
        "receiver_rfc",
        "receiver_name",
        "total",
        "currency",
        "invoice",
        "credit_note",
        "uploaded_at",
        "xml_link",
        "pdf_link",
    ]
    list_select_related = ["entity", "invoice", "credit_note"]
    actions = ["build_invoice"]
    list_filter = ["entity", "doc_type", "version"]
    search_fields = ["uuid", "receiver_rfc", "receiver_name", "folio"]
    exclude = ["xml"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in ExternalCfdi._meta.fields if f.name != "xml"]

    def has_add_permission(self, request):
        return companies_with_perm(request.user, "sales.add_externalcfdi").exists()

    def add_view(self, request, form_url="", extra_context=None):
        """«Cargar XML y/o PDF»: the same service as the API and the cashier's screen."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ExternalCfdiUploadForm(request.POST or None, request.FILES or None)
        form.fields["entity"].queryset = SalesEntity.objects.filter(
            company__in=companies_with_perm(request.user, "sales.add_externalcfdi"), active=True
        ).order_by("company__legal_name", "code")
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                external = load_external_cfdi(
                    entity=data["entity"], xml=data["xml"].read(), pdf=data.get("pdf"), user=request.user
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, f"CFDI {external.uuid} cargado.", level=messages.SUCCESS)
                return redirect(reverse("admin:sales_externalcfdi_change", args=[external.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Cargar XML y/o PDF de un CFDI externo",
            "form_id": "upload-external-cfdi",
            "submit_label": "Cargar",
            "form": form,
            "multipart": True,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/header_lines_form.html", context)


class ExternalCfdiUploadForm(forms.Form):
    entity = forms.ModelChoiceField(queryset=SalesEntity.objects.none(), label="Entidad de venta")
    xml = forms.FileField(label="Archivo XML", help_text="El XML timbrado, tal como lo entregó el PAC.")
    pdf = forms.FileField(
        label="Archivo PDF", required=False, help_text="Su representación impresa (opcional)."
    )
