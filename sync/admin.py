"""Admin of the sync engine: connections (configured by accountants; credentials write-only),
runs and events (read-only, written by the engine)."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from erp.admin import CompanyScopedAdmin
from erp.errors import DomainError
from erp.roles import has_company_perm

from . import selectors, services
from .models import Connection, CustomerImport, Event, Run, WopenDocument

# The seed's Wopen screen: each field is one key of a Wopen connection's options.
WOPEN_FIELDS = {
    "wopen_orders": "orders",
    "wopen_invoices": "invoices",
    "wopen_entity": "entity",
    "wopen_auto_stamp": "auto_stamp",
    "wopen_clave_prod_serv": "clave_prod_serv",
    "wopen_clave_unidad": "clave_unidad",
    "wopen_url": "base_url",
    "wopen_user": "user",
}


class ConnectionForm(forms.ModelForm):
    new_credentials = forms.CharField(
        label="Credenciales nuevas",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=(
            "Se guardan cifradas y nunca se muestran. En blanco: se conservan las actuales. Wopen: la "
            "contraseña (no se valida al guardar; un dato incorrecto aparece como evento de la sincronización)."
        ),
    )
    wopen_orders = forms.BooleanField(label="Sincronización Pedidos", required=False, initial=True)
    wopen_invoices = forms.BooleanField(label="Sincronización Facturas", required=False, initial=True)
    wopen_entity = forms.CharField(
        label="Sucursal", required=False, help_text="Clave de la entidad de venta que recibe los documentos."
    )
    wopen_auto_stamp = forms.BooleanField(label="Timbrado de factura automática", required=False)
    wopen_clave_prod_serv = forms.CharField(
        label="Clave Prod/Serv",
        required=False,
        help_text=(
            "Opcional, con la Clave Unidad: se asigna la misma clave a todos los productos de Wopen que "
            "no existan aquí."
        ),
    )
    wopen_clave_unidad = forms.CharField(label="Clave Unidad", required=False)
    wopen_url = forms.CharField(label="URL", required=False)
    wopen_user = forms.CharField(label="Usuario", required=False)

    class Meta:
        model = Connection
        fields = ["company", "kind", "name", "enabled", "period_minutes", "options"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "options" in self.fields:
            self.fields["options"].required = False
        if self.instance.kind == Connection.Kind.WOPEN:
            for name, key in WOPEN_FIELDS.items():
                if name in self.fields and key in (self.instance.options or {}):
                    self.fields[name].initial = self.instance.options[key]

    def clean(self):
        data = super().clean()
        if data.get("kind") == Connection.Kind.WOPEN:
            options = dict(data.get("options") or {})
            options.update({key: data.get(name) for name, key in WOPEN_FIELDS.items() if name in self.fields})
            data["options"] = self.instance.options = options
        return data


@admin.register(Connection)
class ConnectionAdmin(CompanyScopedAdmin):
    form = ConnectionForm
    list_display = ["name", "company", "kind", "enabled", "period_minutes", "cursor"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name"]
    readonly_fields = ["cursor", "has_credentials", "events_button", "import_link"]
    actions = ["run_now", "enable", "disable"]
    fieldsets = [
        (None, {"fields": ["company", "kind", "name", "enabled", "period_minutes"]}),
        (
            "Configuración (CONTPAQi Wopen)",
            {
                "fields": [
                    "wopen_orders",
                    "wopen_invoices",
                    "wopen_entity",
                    "wopen_auto_stamp",
                    "wopen_clave_prod_serv",
                    "wopen_clave_unidad",
                ]  # fmt: skip
            },
        ),
        ("Configuración de Wopen", {"fields": ["wopen_url", "wopen_user"]}),
        (
            "Opciones y credenciales",
            {
                "fields": [
                    "options",
                    "new_credentials",
                    "has_credentials",
                    "cursor",
                    "events_button",
                    "import_link",
                ]
            },
        ),
    ]

    @admin.display(description="Visor de eventos")
    def events_button(self, obj):
        if not (obj and obj.pk):
            return "—"
        return format_html('<a class="button" href="{}">Visor de eventos</a>', selectors.viewer_url(obj))

    @admin.display(description="Importar archivo de clientes")
    def import_link(self, obj):
        if not (obj and obj.pk and obj.kind == Connection.Kind.CUSTOMER_FILE):
            return "—"
        return format_html(
            '<a href="{}">Subir archivo (vista previa)</a>',
            reverse("admin:sync_connection_import", args=[obj.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/importar/",
                self.admin_site.admin_view(self.import_view),
                name="sync_connection_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request, pk):
        """Upload a customer file from the admin: the same preview as the sync screen."""
        connection = get_object_or_404(self.get_queryset(request), pk=pk, kind=Connection.Kind.CUSTOMER_FILE)
        if not has_company_perm(request.user, connection.company_id, "sync.add_customerimport"):
            self.message_user(request, "Su rol no puede importar archivos de clientes.", messages.ERROR)
            return redirect("admin:sync_connection_changelist")
        if request.method == "POST" and request.FILES.get("file"):
            upload = request.FILES["file"]
            try:
                preview = services.preview_customer_file(
                    connection=connection,
                    name=upload.name,
                    data=upload.file,
                    size=upload.size,
                    source="upload",
                )
            except DomainError as error:
                self.message_user(request, f"«{upload.name}»: {error.message}", messages.ERROR)
            else:
                return redirect("sync:import-preview", pk=preview.pk)
        context = {
            **self.admin_site.each_context(request),
            "connection": connection,
            "title": "Importar archivo de clientes",
        }
        return render(request, "admin/sync/import_file.html", context)

    @admin.display(description="Tiene credenciales", boolean=True)
    def has_credentials(self, obj):
        return bool(obj and obj.credentials)

    def save_model(self, request, obj, form, change):
        services.save_connection(connection=obj, credentials=form.cleaned_data.get("new_credentials") or None)

    def delete_model(self, request, obj):
        services.delete_connection(connection=obj)

    def delete_queryset(self, request, queryset):
        for connection in queryset:
            services.delete_connection(connection=connection)

    def _allowed(self, request, queryset):
        allowed = [c for c in queryset if has_company_perm(request.user, c.company_id, "sync.run_connection")]
        if len(allowed) < len(queryset):
            self.message_user(request, "Su rol no puede sincronizar algunas conexiones.", messages.WARNING)
        return allowed

    @admin.action(description="Sincronizar ahora")
    def run_now(self, request, queryset):
        for connection in self._allowed(request, queryset):
            services.request_run(connection=connection, trigger="manual")
        self.message_user(request, "Sincronización solicitada; vea el visor de eventos.")

    @admin.action(description="Activar")
    def enable(self, request, queryset):
        for connection in self._allowed(request, queryset):
            services.set_connection_enabled(connection=connection, enabled=True)

    @admin.action(description="Desactivar")
    def disable(self, request, queryset):
        for connection in self._allowed(request, queryset):
            services.set_connection_enabled(connection=connection, enabled=False)


class ReadOnlyAdmin(CompanyScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["id", "connection", "trigger", "status", "result", "started_at", "finished_at",
                    "created", "updated", "deactivated", "unchanged", "failed"]  # fmt: skip
    list_filter = ["result", "trigger", "connection"]
    list_select_related = ["connection"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["at", "level", "connection", "run", "record_key", "message"]
    list_filter = ["level", "connection"]
    list_select_related = ["connection", "run__connection"]
    search_fields = ["message", "record_key"]
    date_hierarchy = "at"


@admin.register(WopenDocument)
class WopenDocumentAdmin(ReadOnlyAdmin):
    """The external keys of the documents CONTPAQi Wopen sent: which local document each became,
    and when its stamp was reported back."""

    list_display = ["wopen_id", "wopen_kind", "document", "connection", "created_at", "reported_at"]
    list_filter = ["wopen_kind", "connection"]
    list_select_related = ["document", "connection"]
    search_fields = ["wopen_id"]


@admin.register(CustomerImport)
class CustomerImportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "connection", "file_name", "source", "status", "to_create", "to_update",
                    "unchanged", "errors", "preview_link"]  # fmt: skip
    list_filter = ["status", "source", "connection"]
    list_select_related = ["connection"]
    search_fields = ["file_name", "sha256"]

    @admin.display(description="Vista previa")
    def preview_link(self, obj):
        return format_html('<a href="{}">Ver</a>', reverse("sync:import-preview", args=[obj.pk]))
