from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html, format_html_join

from .errors import DomainError
from .models import Company, Currency, ExchangeRate, Membership
from .roles import companies_with_perm
from .services import grant_membership, revoke_membership

admin.site.site_header = "ERP — Administración"
admin.site.site_title = "ERP"
admin.site.index_title = "Contabilidad, ventas, inventario y CFDI"


def tracking_tree(node: dict | None) -> str:
    """The seed's "Rastrear" tree on an admin page: nested lists of "label (status)", from a node
    ``{"label", "status", "children"}`` as the documents' track services build it; "—" without one."""

    def render(node):
        children = format_html_join("", "{}", ((render(child),) for child in node["children"]))
        nested = format_html("<ul>{}</ul>", children) if node["children"] else ""
        return format_html("<li>{} <em>({})</em>{}</li>", node["label"], node["status"], nested)

    return format_html("<ul>{}</ul>", render(node)) if node else "—"


class ReadOnlyPageMixin:
    """A change page with nothing to edit (every field read-only, no editable inline) offers no
    "Guardar" buttons and refuses a POST, while the change permission stays: the list's actions
    (post, cancel…) are guarded by it and must keep working."""

    def change_page_is_read_only(self, request, obj) -> bool:
        if obj is None:
            return False
        if self.get_form(request, obj, change=True).base_fields:
            return False
        for inline in self.get_inline_instances(request, obj):
            formset = inline.get_formset(request, obj)
            if formset.form.base_fields or (inline.can_delete and inline.has_delete_permission(request, obj)):
                return False
        return True

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and self.change_page_is_read_only(request, obj):
            context.update(
                show_save=False,
                show_save_and_continue=False,
                show_save_and_add_another=False,
                show_save_as_new=False,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id and "_popup" not in request.POST:
            obj = self.get_object(request, object_id)
            if obj is not None and self.change_page_is_read_only(request, obj):
                raise PermissionDenied
        return super().changeform_view(request, object_id, form_url, extra_context)


class CompanyScopedAdmin(ReadOnlyPageMixin, admin.ModelAdmin):
    """Shows only rows of the companies where the user's role can see this model, and offers
    only those companies (and their rows) in the form's choices."""

    def _companies(self, request, model=None):
        model = model or self.model
        perm = f"{model._meta.app_label}.view_{model._meta.model_name}"
        return companies_with_perm(request.user, perm)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(company__in=self._companies(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related is Company:
            kwargs["queryset"] = self._companies(request)
        elif any(f.name == "company" for f in related._meta.fields):
            kwargs["queryset"] = related._default_manager.filter(
                company__in=self._companies(request, related)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.related_model
        if any(f.name == "company" for f in related._meta.fields):
            kwargs["queryset"] = related._default_manager.filter(
                company__in=self._companies(request, related)
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["rfc", "legal_name", "regimen_fiscal", "postal_code", "cfdi_version", "active"]
    list_filter = ["active", "cfdi_version", "regimen_fiscal"]
    search_fields = ["rfc", "legal_name"]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(pk__in=companies_with_perm(request.user, "erp.view_company"))
        )


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "decimals", "is_national"]
    search_fields = ["code", "name"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(CompanyScopedAdmin):
    list_display = ["date", "currency", "rate", "company"]
    list_filter = ["currency", "company"]
    date_hierarchy = "date"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Roles are granted through the service so the user's admin groups stay in step."""

    list_display = ["user", "company", "role"]
    list_filter = ["role", "company"]
    search_fields = ["user__username", "company__rfc", "company__legal_name"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        membership = grant_membership(user=obj.user, company=obj.company, role=obj.role)
        obj.pk = membership.pk

    def delete_model(self, request, obj):
        revoke_membership(membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            revoke_membership(membership=membership)


class LedgerAdmin(CompanyScopedAdmin):
    """Rows written by services: shown read-only, changed only through the admin actions (which
    call the services and report their Spanish message), never added or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def run_service(self, request, queryset, service, argument: str, done: str) -> None:
        ok = 0
        for obj in queryset:
            try:
                service(**{argument: obj}, user=request.user)
                ok += 1
            except DomainError as error:
                self.message_user(request, f"{obj}: {error.message}", level=messages.ERROR)
        if ok:
            self.message_user(request, f"{ok} {done}.", level=messages.SUCCESS)
