"""Admin screens of invoices built from an XML: the template with its concordance (codes are
set in its lines and "Guardar" is the seed's "Actualizar"), accepting it, the learned product
associations, and the external CFDI's files and "Generar factura desde XML"."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from cfdi.models import CfdiDocument
from erp.admin import CompanyScopedAdmin
from erp.errors import DomainError
from erp.roles import companies_with_perm

from ..external_models import ExternalCfdi
from ..invoice_cfdi import invoice_cfdi
from .concordance import ERROR, WARNING
from .models import ProductAssociation, XmlInvoice, XmlInvoiceLine
from .responses import pdf_download, xml_download
from .services import (
    accept_xml_invoice,
    build_xml_invoice,
    concordance_of,
    linked_external,
    update_xml_invoice,
)


class XmlInvoiceLineInline(admin.TabularInline):
    model = XmlInvoiceLine
    extra = 0
    can_delete = False
    fields = ["position", "product", "description"]
    readonly_fields = ["position"]
    autocomplete_fields = ["product"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(XmlInvoice)
class XmlInvoiceAdmin(CompanyScopedAdmin):
    """La plantilla de la factura desde XML: establezca las claves y guarde («Actualizar») hasta
    que la concordancia no marque ERROR; luego «Aceptar»."""

    list_display = ["uuid", "customer", "reference", "invoice", "created_at"]
    list_select_related = ["external", "customer", "invoice"]
    search_fields = ["external__uuid", "customer__name", "customer__rfc", "reference"]
    fields = ["external", "customer", "reference", "observations", "invoice", "concordance"]
    readonly_fields = ["external", "customer", "invoice", "concordance"]
    inlines = [XmlInvoiceLineInline]
    actions = ["accept_selected"]

    @admin.display(description="UUID", ordering="external__uuid")
    def uuid(self, obj):
        return obj.external.uuid

    @admin.display(description="Concordancia")
    def concordance(self, obj):
        if not obj or not obj.pk:
            return "—"
        try:
            result = concordance_of(obj)
        except DomainError as exc:
            return exc.message
        colors = {ERROR: "#b3261e", WARNING: "#8a5a00"}
        items = format_html_join(
            "",
            '<li style="color:{}">{}</li>',
            ((colors.get(m.level, "inherit"), str(m)) for m in result.messages),
        )
        totals = result.totals
        return format_html(
            "<p>Importe {} · IVA {} · IEPS {} · Ret. IVA {} · Ret. ISR {} · <strong>Total {}</strong></p>"
            "<ul>{}</ul><p>{}</p>",
            totals.importe, totals.iva, totals.ieps, totals.retained_iva, totals.retained_isr, totals.total,
            items, "Sin errores: se puede aceptar." if result.ok else "Corrija los errores y guarde de nuevo.",
        )  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj and obj.invoice_id:
            return self.fields
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        """Saved by the service in ``save_related``, with the lines, or not at all."""

    def save_related(self, request, form, formsets, change):
        codes, descriptions = {}, {}
        for formset in formsets:
            # Nothing is saved by the formset itself; the admin's history message reads these.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            for line_form in formset.forms:
                data = line_form.cleaned_data
                if not data:
                    continue
                position = line_form.instance.position
                product = data.get("product")
                codes[position] = product.code if product else ""
                descriptions[position] = data.get("description") or line_form.instance.description
        try:
            update_xml_invoice(
                template=form.instance,
                codes=codes,
                descriptions=descriptions,
                reference=form.cleaned_data.get("reference"),
                observations=form.cleaned_data.get("observations"),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def has_accept_permission(self, request):
        return companies_with_perm(request.user, "sales.add_xmlinvoice").exists()

    @admin.action(description="Aceptar (agregar la factura, a crédito o sin pago)", permissions=["accept"])
    def accept_selected(self, request, queryset):
        for template in queryset.filter(invoice__isnull=True).order_by("pk"):
            try:
                invoice = accept_xml_invoice(template=template, user=request.user)
            except DomainError as exc:
                # A contado invoice needs its collection accounts: the cashier screen or the API.
                self.message_user(request, f"{template}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{template}: se agregó la {invoice}.", messages.SUCCESS)


@admin.register(ProductAssociation)
class ProductAssociationAdmin(CompanyScopedAdmin):
    list_display = ["customer", "kind", "key", "product", "updated_at"]
    list_filter = ["kind"]
    list_select_related = ["customer", "product"]
    search_fields = ["key", "product__code", "customer__name", "customer__rfc"]
    autocomplete_fields = ["product"]
    fields = ["company", "customer", "kind", "key", "product"]


class ExternalCfdiFilesAdmin:
    """For ``ExternalCfdiAdmin``: download its XML and PDF, and build an invoice from it."""

    @admin.display(description="XML")
    def xml_link(self, obj):
        return format_html('<a href="{}">XML</a>', reverse("admin:sales_externalcfdi_xml", args=[obj.pk]))

    @admin.display(description="PDF")
    def pdf_link(self, obj):
        return format_html('<a href="{}">PDF</a>', reverse("admin:sales_externalcfdi_pdf", args=[obj.pk]))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/xml/", view(self.download_xml), name="sales_externalcfdi_xml"),
            path("<int:pk>/pdf/", view(self.download_pdf), name="sales_externalcfdi_pdf"),
            *super().get_urls(),
        ]

    def _external(self, request, pk):
        return self.get_queryset(request).get(pk=pk)

    def download_xml(self, request, pk):
        return xml_download(self._external(request, pk))

    def download_pdf(self, request, pk):
        external = self._external(request, pk)
        try:
            return pdf_download(external)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:sales_externalcfdi_changelist"))

    def has_build_permission(self, request):
        return companies_with_perm(request.user, "sales.add_xmlinvoice").exists()

    @admin.action(description="Generar factura desde XML", permissions=["build"])
    def build_invoice(self, request, queryset):
        for external in queryset.order_by("pk"):
            try:
                template = build_xml_invoice(external=external, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{external.uuid}: {exc.message}", messages.ERROR)
                continue
            url = reverse("admin:sales_xmlinvoice_change", args=[template.pk])
            self.message_user(
                request, format_html('{}: <a href="{}">plantilla de la factura</a>', external.uuid, url)
            )


def invoice_cfdi_files(invoice) -> str:
    """The invoice's "Archivo XML" and "Archivo PDF": its own CFDI's, or the external one linked."""
    external = linked_external(invoice)
    if external is None:
        own = invoice_cfdi(invoice)
        if own is None or own.status != CfdiDocument.Status.STAMPED:
            return "—"
        return format_html(
            'CFDI {}: <a href="{}">XML</a> <a href="{}">PDF</a>',
            own.uuid,
            reverse("admin:cfdi_cfdidocument_xml", args=[own.pk]),
            reverse("admin:cfdi_cfdidocument_pdf", args=[own.pk]),
        )
    return format_html(
        'CFDI externo {}: <a href="{}">XML</a> <a href="{}">PDF</a>',
        external.uuid,
        reverse("admin:sales_externalcfdi_xml", args=[external.pk]),
        reverse("admin:sales_externalcfdi_pdf", args=[external.pk]),
    )


__all__ = ["ExternalCfdi", "ExternalCfdiFilesAdmin", "invoice_cfdi_files"]
