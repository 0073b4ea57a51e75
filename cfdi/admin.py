from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from erp.admin import CompanyScopedAdmin
from erp.errors import DomainError

from . import services
from .api import pdf_response
from .certificates import inspect_csd
from .models import CfdiDocument, CfdiSettings, Csd, PacAccount


class CsdUploadForm(forms.ModelForm):
    """Upload of the two files SAT issues and the key's password; checked before anything is saved."""

    cer = forms.FileField(label="Certificado (.cer)")
    key = forms.FileField(label="Llave privada (.key)")
    key_password = forms.CharField(label="Contraseña de la llave", widget=forms.PasswordInput, strip=False)

    class Meta:
        model = Csd
        fields = ["company"]

    def clean(self):
        cleaned = super().clean()
        company = cleaned.get("company")
        cer, key, password = cleaned.get("cer"), cleaned.get("key"), cleaned.get("key_password")
        if company and cer and key and password:
            if cer.size > services.MAX_UPLOAD_BYTES or key.size > services.MAX_UPLOAD_BYTES:
                raise forms.ValidationError("Los archivos del CSD no pueden exceder 64 KB.")
            cleaned["cer_bytes"], cleaned["key_bytes"] = cer.read(), key.read()
            try:
                inspect_csd(
                    cer=cleaned["cer_bytes"],
                    key=cleaned["key_bytes"],
                    password=password,
                    rfc=company.rfc,
                    now=timezone.now(),
                )
            except DomainError as error:
                raise forms.ValidationError(error.message) from error
        return cleaned


@admin.register(Csd)
class CsdAdmin(CompanyScopedAdmin):
    list_display = ["serial_number", "rfc", "holder_name", "valid_from", "valid_to", "active", "company"]
    list_filter = ["company", "active"]
    search_fields = ["serial_number", "rfc"]
    readonly_fields = [
        "serial_number",
        "rfc",
        "holder_name",
        "valid_from",
        "valid_to",
        "active",
        "uploaded_at",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = CsdUploadForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["company", "cer", "key", "key_password"]
        return ["company", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["company", *self.readonly_fields]

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            csd = services.install_csd(
                company=data["company"],
                cer=data["cer_bytes"],
                key=data["key_bytes"],
                password=data["key_password"],
            )
        except DomainError as error:
            messages.error(request, error.message)
            raise
        for field in Csd._meta.concrete_fields:
            setattr(obj, field.attname, getattr(csd, field.attname))
        obj._state.adding = False


@admin.register(CfdiDocument)
class CfdiDocumentAdmin(CompanyScopedAdmin):
    list_display = [
        "issued_at", "kind", "series", "folio", "receiver_rfc", "receiver_name", "currency", "total",
        "cfdi_column", "uuid", "cancellation_status", "xml_link", "pdf_link", "company",
    ]  # fmt: skip
    actions = ["send_to_receiver", "render_pdf"]
    list_filter = ["company", "status", "kind", "currency"]
    search_fields = ["uuid", "receiver_rfc", "receiver_name", "folio"]
    date_hierarchy = "issued_at"
    exclude = ["xml"]
    readonly_fields = [
        "company", "kind", "status", "series", "folio", "issued_at", "issuer_rfc", "receiver_rfc", "receiver_name",
        "currency", "exchange_rate", "subtotal", "discount", "total_transferred", "total_withheld", "total", "uuid",
        "stamped_at", "pac", "certificate_number", "sat_certificate_number", "source_model", "source_id",
        "last_error_code", "last_error_message", "csd", "pdf", "xml_link", "pdf_link", "receiver_email",
        "emailed_at", "emailed_to", "delivery_error", "cancellation_status", "cancellation_motive",
        "substitute_uuid", "cancellation_requested_at", "cancellation_answered_at",
    ]  # fmt: skip
    list_filter = ["company", "status", "kind", "currency", "cancellation_status"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("xml")

    @admin.display(description="CFDI")
    def cfdi_column(self, obj):
        return obj.cfdi_column

    @admin.display(description="XML")
    def xml_link(self, obj):
        url = reverse("admin:cfdi_cfdidocument_xml", args=[obj.pk])
        return format_html('<a href="{}">XML</a>', url)

    @admin.display(description="PDF")
    def pdf_link(self, obj):
        if obj.status != CfdiDocument.Status.STAMPED:
            return "—"
        url = reverse("admin:cfdi_cfdidocument_pdf", args=[obj.pk])
        return format_html('<a href="{}">PDF</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:pk>/xml/", self.admin_site.admin_view(self.download_xml), name="cfdi_cfdidocument_xml"
            ),
            path(
                "<int:pk>/pdf/", self.admin_site.admin_view(self.download_pdf), name="cfdi_cfdidocument_pdf"
            ),
            *super().get_urls(),
        ]

    def download_pdf(self, request, pk):
        document = get_object_or_404(self.get_queryset(request), pk=pk)
        try:
            return pdf_response(document)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("admin:cfdi_cfdidocument_changelist")

    @admin.action(description="Enviar XML y PDF al cliente")
    def send_to_receiver(self, request, queryset):
        for document in queryset.filter(status=CfdiDocument.Status.STAMPED):
            try:
                services.send_cfdi(document=document, force=True)
            except DomainError as error:
                messages.error(request, f"{document}: {error.message}")
            else:
                messages.success(request, f"{document}: enviado.")

    @admin.action(description="Generar PDF")
    def render_pdf(self, request, queryset):
        for document in queryset.filter(status=CfdiDocument.Status.STAMPED):
            services.render_cfdi_pdf(document=document, force=True)
        messages.success(request, "PDF generados.")

    def download_xml(self, request, pk):
        document = get_object_or_404(self.get_queryset(request), pk=pk)
        raw = CfdiDocument.objects.values_list("xml", flat=True).get(pk=document.pk)
        response = HttpResponse(bytes(raw), content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
        return response

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PacAccountForm(forms.ModelForm):
    """Credentials are typed, never shown back; left empty, the stored ones are kept."""

    password = forms.CharField(label="Contraseña", widget=forms.PasswordInput, required=False, strip=False)
    token = forms.CharField(label="Token", widget=forms.PasswordInput, required=False, strip=False)

    class Meta:
        model = PacAccount
        fields = [
            "company", "provider", "environment", "username", "password", "token", "contract", "service_url",
            "timeout_seconds", "active",
        ]  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        for secret in ("password", "token"):
            if not cleaned.get(secret) and self.instance.pk:
                cleaned[secret] = getattr(self.instance, secret)
        return cleaned


@admin.register(PacAccount)
class PacAccountAdmin(CompanyScopedAdmin):
    form = PacAccountForm
    list_display = ["company", "provider", "environment", "username", "active"]
    list_filter = ["provider", "environment", "active"]


@admin.register(CfdiSettings)
class CfdiSettingsAdmin(CompanyScopedAdmin):
    list_display = ["company", "send_by_email", "logo"]
