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

from . import services
from .models import Connection, CustomerImport, Event, Run


class ConnectionForm(forms.ModelForm):
    new_credentials = forms.CharField(
        label="Credenciales nuevas",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Se guardan cifradas y nunca se muestran. En blanco: se conservan las actuales.",
    )

    class Meta:
        model = Connection
        fields = ["company", "kind", "name", "enabled", "period_minutes", "options"]


@admin.register(Connection)
class ConnectionAdmin(CompanyScopedAdmin):
    form = ConnectionForm
    list_display = ["name", "company", "kind", "enabled", "period_minutes", "cursor"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name"]
    readonly_fields = ["cursor", "has_credentials", "import_link"]
    actions = ["run_now", "enable", "disable"]

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
