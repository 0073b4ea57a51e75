from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from erp.admin import CompanyScopedAdmin, tracking_tree
from erp.errors import DomainError
from erp.external import ExternallyOwnedAdminMixin
from erp.roles import companies_with_perm

from .admin_filters import TABS_TEMPLATE, EntityTabFilter, PeriodFilter, StatusTabFilter
from .cancellation import cancel_invoice_and_cfdi, track_document
from .cfdi_import.admin import ExternalCfdiFilesAdmin, invoice_cfdi_files
from .cfdi_import.services import send_invoice_files
from .document_models import DocumentStatus
from .external_cfdi import link_external_cfdi, load_external_cfdi
from .global_invoice import admin as global_invoice_admin  # noqa: F401  (registers «Facturas globales»)
from .global_invoice.services import issue_current_global_invoice
from .integrity import verify_books
from .invoice_cfdi import cfdi_column, seal_and_deliver
from .models import Customer, ExternalCfdi, SalesDocument, SalesDocumentLine, SalesEntity, Salesperson
from .payments import admin as payments_admin  # noqa: F401  (registers the payments screens)
from .posting import post_invoice
from .receivables import admin as receivables_admin  # noqa: F401  (registers the receivables screens)
from .returns import admin as returns_admin  # noqa: F401  (registers "Devoluciones sobre ventas")
from .services import save_sales_entity
from .views import CFDI_WORDS

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


class TabsChoicesFilter(admin.ChoicesFieldListFilter):
    """A choices field (kind, payment) as a bar of tabs above the list, like the seed's tabs."""

    template = TABS_TEMPLATE


@admin.register(SalesDocument)
class SalesDocumentAdmin(CompanyScopedAdmin):
    """The seed's list: Núm., Fecha, Ref, ST, Total, Cliente, origin reference, CFDI, per entity,
    with its status tabs and periods (``sales.admin_filters``). Documents are made and changed
    only through their services (screens, API and the actions here), so the page is read-only."""

    # Status and total early, so that at 1366 px they are never cut off; the long texts
    # (customer, references) are shortened.
    list_display = [
        "folio", "date_shown", "reference_shown", "st", "total_shown", "customer_shown", "origin_shown", "cfdi",
        "kind", "entity_code",
    ]  # fmt: skip
    list_display_links = ["folio"]
    list_filter = [
        EntityTabFilter,
        StatusTabFilter,
        PeriodFilter,
        ("kind", TabsChoicesFilter),
        ("payment", TabsChoicesFilter),
    ]
    search_fields = ["customer_name", "customer_rfc", "reference", "origin_ref"]
    list_select_related = ["entity", "currency", "stock_movement"]
    inlines = [SalesDocumentLineInline]
    change_list_template = "admin/sales/salesdocument/change_list.html"
    change_form_template = "admin/sales/salesdocument/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("verificar-integridad/", view(self.verify_books_view), name="sales_verify_books"),
            path("<int:object_id>/accion/", view(self.detail_action_view), name="sales_salesdocument_action"),
            path(
                "<int:object_id>/enlazar-cfdi/",
                view(self.link_cfdi_view),
                name="sales_salesdocument_link_cfdi",
            ),
            *super().get_urls(),
        ]

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

    # -- the list -------------------------------------------------------------------------------
    def changelist_view(self, request, extra_context=None):
        """«Agregar factura» (the cashier's entry screen, for the entity shown or the first one)
        and «Cargar XML y/o PDF» (a CFDI stamped elsewhere) beside the list."""
        entities = SalesEntity.objects.filter(
            company__in=companies_with_perm(request.user, "sales.add_salesdocument"), active=True
        ).order_by("company__legal_name", "code")
        chosen = request.GET.get("entity", "")
        entity = (entities.filter(pk=chosen).first() if chosen.isdigit() else None) or entities.first()
        context = {
            "add_invoice_url": reverse("sales:invoice-entry", args=[entity.pk]) if entity else "",
            "upload_cfdi_url": reverse("admin:sales_externalcfdi_add")
            if companies_with_perm(request.user, "sales.add_externalcfdi").exists()
            else "",
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

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
        """The seed's state (---, TFD: stamped, PDF: stamped and printed) as one word, as in the
        cashier's list, with the files to download beside it."""
        state = getattr(obj, "cfdi_column", "---")
        if state == "---" or obj.kind != "invoice":
            return state
        links = format_html('<a href="{}" title="Archivo XML">XML</a>', reverse("invoice-xml", args=[obj.pk]))
        if state == "PDF":
            links = format_html(
                '{} <a href="{}" title="Archivo PDF">PDF</a>', links, reverse("invoice-pdf", args=[obj.pk])
            )
        return format_html(
            '<span style="white-space: nowrap" title="{}">{} {}</span>', state, CFDI_WORDS[state], links
        )

    @admin.display(description="Fecha", ordering="date")
    def date_shown(self, obj):
        return format_html('<span style="white-space: nowrap">{}</span>', obj.date.strftime("%d/%m/%Y"))

    @admin.display(description="Entidad", ordering="entity__code")
    def entity_code(self, obj):
        return format_html('<span title="{}">{}</span>', obj.entity.name, obj.entity.code)

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
        return _shortened(obj.customer_name, 40)

    @admin.display(description="Ref.", ordering="reference")
    def reference_shown(self, obj):
        return _shortened(obj.reference, 16) if obj.reference else "—"

    @admin.display(description="Ref. origen")
    def origin_shown(self, obj):
        return _shortened(obj.origin_ref, 22) if obj.origin_ref else "—"

    @admin.display(description="Núm.", ordering="number")
    def folio(self, obj):
        return f"{obj.series}{obj.number}" if obj.number else "—"

    # -- the detail -----------------------------------------------------------------------------
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

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["detail_actions"] = self.detail_actions(request, obj) if obj is not None else []
        return super().render_change_form(request, context, add, change, form_url, obj)

    def detail_actions(self, request, obj) -> list[tuple[str, str]]:
        """The list's actions that apply to this document, as buttons on its page: each runs the
        very action of the list on this one document (``detail_action_view``)."""
        if obj.kind != "invoice" or obj.status == DocumentStatus.CANCELLED:
            return []
        names = DRAFT_ACTIONS if obj.status == DocumentStatus.DRAFT else POSTED_ACTIONS
        actions = self.get_actions(request)
        return [(name, DETAIL_LABELS[name]) for name in names if name in actions]

    def detail_action_view(self, request, object_id):
        change_url = reverse("admin:sales_salesdocument_change", args=[object_id])
        if request.method != "POST":
            return redirect(change_url)
        document = self.get_object(request, str(object_id))
        if document is None:
            raise Http404("No existe el documento.")
        actions = self.get_actions(request)
        name = request.POST.get("action", "")
        if name not in actions:
            raise PermissionDenied
        response = actions[name][0](self, request, self.get_queryset(request).filter(pk=document.pk))
        return response or redirect(change_url)

    def link_cfdi_view(self, request, object_id):
        """«Enlazar a factura»: a CFDI stamped elsewhere and loaded to the invoice's entity becomes
        its fiscal document (the same service as the API's ``link-cfdi``, with its rules)."""
        invoice = self.get_object(request, str(object_id))
        if invoice is None or invoice.kind != "invoice":
            raise Http404("No existe la factura.")
        if not self.has_change_permission(request, invoice):
            raise PermissionDenied
        form = LinkExternalCfdiForm(request.POST or None)
        form.fields["external"].queryset = ExternalCfdi.objects.filter(
            company=invoice.company, entity=invoice.entity, invoice__isnull=True, doc_type="I"
        ).order_by("-pk")
        change_url = reverse("admin:sales_salesdocument_change", args=[invoice.pk])
        if request.method == "POST" and form.is_valid():
            try:
                external = link_external_cfdi(invoice=invoice, external=form.cleaned_data["external"])
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, f"{invoice}: enlazada al CFDI {external.uuid}.", messages.SUCCESS)
                return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Enlazar a factura un CFDI externo: {invoice}",
            "form_id": "link-external-cfdi",
            "submit_label": "Enlazar",
            "form": form,
        }
        return TemplateResponse(request, "admin/header_lines_form.html", context)

    # -- the seed's processes, from the list (select) and from the detail (buttons) -------------
    actions = [
        "post_selected",
        "seal_selected",
        "send_selected",
        "link_cfdi_one",
        "return_one",
        "rebate_one",
        "cancel_selected",
        "cancel_not_carried_out",
    ]

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

    def _each_invoice(self, request, queryset, service, done: str) -> None:
        """Run ``service`` on each selected invoice that is not a draft nor cancelled, saying
        what each refusal was, in the service's words."""
        count = 0
        invoices = queryset.filter(kind="invoice").exclude(status__in=["draft", "cancelled"])
        for document in invoices.select_related("company", "entity", "customer", "currency").order_by("pk"):
            try:
                service(document)
                count += 1
            except DomainError as exc:
                self.message_user(request, f"{document}: {exc.message}", messages.ERROR)
        skipped = queryset.count() - invoices.count()
        if skipped:
            self.message_user(
                request, f"{skipped} documento(s) no son facturas agregadas y se omitieron.", messages.WARNING
            )
        if count:
            self.message_user(request, f"{count} factura(s) {done}.", messages.SUCCESS)

    @admin.action(description="Sellar (generar y timbrar el CFDI de) las facturas", permissions=["change"])
    def seal_selected(self, request, queryset):
        self._each_invoice(request, queryset, lambda invoice: seal_and_deliver(invoice=invoice), "selladas")

    @admin.action(description="Enviar XML y PDF al correo del cliente", permissions=["change"])
    def send_selected(self, request, queryset):
        self._each_invoice(request, queryset, lambda invoice: send_invoice_files(invoice=invoice), "enviadas")

    def _credit_note_entry(self, request, queryset, action: str):
        """«Devolver» / «Rebajar»: the credit-note screen of one invoice, where its lines are edited."""
        invoices = list(queryset.filter(kind="invoice").exclude(status__in=["draft", "cancelled"])[:2])
        if len(invoices) != 1:
            self.message_user(
                request, f"Seleccione una sola factura agregada para {action}la.", messages.WARNING
            )
            return None
        return redirect(reverse("sales:credit-note-entry", args=[invoices[0].pk, action]))

    @admin.action(description="Enlazar a factura un CFDI externo (una factura)", permissions=["change"])
    def link_cfdi_one(self, request, queryset):
        invoices = list(queryset.filter(kind="invoice").exclude(status__in=["draft", "cancelled"])[:2])
        if len(invoices) != 1:
            self.message_user(
                request, "Seleccione una sola factura agregada para enlazarla.", messages.WARNING
            )
            return None
        return redirect(reverse("admin:sales_salesdocument_link_cfdi", args=[invoices[0].pk]))

    @admin.action(
        description="Devolver (una factura: nota de crédito por devolución)", permissions=["change"]
    )
    def return_one(self, request, queryset):
        return self._credit_note_entry(request, queryset, "devolver")

    @admin.action(description="Rebajar (una factura: nota de crédito por rebaja)", permissions=["change"])
    def rebate_one(self, request, queryset):
        return self._credit_note_entry(request, queryset, "rebajar")

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


# The list's actions offered as buttons on a document's page, by its status.
DRAFT_ACTIONS = ["post_selected"]
POSTED_ACTIONS = [
    "seal_selected", "send_selected", "link_cfdi_one", "return_one", "rebate_one", "cancel_selected",
    "cancel_not_carried_out",
]  # fmt: skip
DETAIL_LABELS = {
    "post_selected": "Agregar (contabilizar)",
    "seal_selected": "Sellar",
    "send_selected": "Enviar XML y PDF",
    "link_cfdi_one": "Enlazar CFDI externo",
    "return_one": "Devolver",
    "rebate_one": "Rebajar",
    "cancel_selected": "Cancelar (motivo 02)",
    "cancel_not_carried_out": "Cancelar (motivo 03)",
}


def _shortened(text: str, size: int):
    return format_html(
        '<span title="{}">{}</span>', text, text if len(text) <= size else text[: size - 1] + "…"
    )


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


class LinkExternalCfdiForm(forms.Form):
    external = forms.ModelChoiceField(
        queryset=ExternalCfdi.objects.none(),
        label="CFDI externo",
        help_text="Los CFDIs de ingreso cargados a la entidad de la factura y aún sin enlazar.",
    )
