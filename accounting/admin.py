from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from erp.admin import CompanyScopedAdmin, LedgerAdmin, ReadOnlyPageMixin
from erp.errors import DomainError
from erp.models import Company
from erp.roles import companies_with_perm

from .models import Account, AccountingVariable, ClosedPeriod, JournalEntry, JournalLine, PaymentRecord
from .services import cancel_journal_entry, post_journal_entry


@admin.register(Account)
class AccountAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "nature", "sat_grouping_code", "postable", "active", "company"]
    list_filter = ["company", "nature", "postable", "active"]
    search_fields = ["code", "name", "sat_grouping_code"]
    autocomplete_fields = ["parent"]
    ordering = ["company", "code"]


@admin.register(AccountingVariable)
class AccountingVariableAdmin(CompanyScopedAdmin):
    list_display = ["name", "meaning", "account", "company"]
    list_filter = ["company"]
    search_fields = ["name", "account__code", "account__name"]
    autocomplete_fields = ["account"]
    list_select_related = ["account", "company"]

    @admin.display(description="Descripción")
    def meaning(self, obj):
        return obj.description


class PaymentRecordInline(admin.TabularInline):
    model = PaymentRecord
    extra = 0
    can_delete = False
    fields = ["kind", "date", "beneficiary", "rfc", "amount", "check_number", "origin_bank", "origin_account",
              "dest_bank", "dest_account", "method", "currency", "exchange_rate"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    extra = 0
    can_delete = False
    fields = ["position", "account", "debit", "credit", "description", "currency", "exchange_rate",
              "foreign_amount", "e_accounting"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("account", "currency").prefetch_related("payments")
        )

    @admin.display(description="contabilidad electrónica")
    def e_accounting(self, line):
        return (
            "; ".join(
                f"{p.get_kind_display()} {p.check_number or p.method or ''} {p.origin_bank}→{p.dest_bank} "
                f"{p.beneficiary} {p.rfc} {p.amount}".replace("  ", " ")
                for p in line.payments.all()
            )
            or "—"
        )


class EntryHeaderForm(forms.Form):
    company = forms.ModelChoiceField(queryset=Company.objects.none(), label="Empresa")
    kind = forms.ChoiceField(choices=JournalEntry.Kind.choices, label="Tipo")
    date = forms.DateField(label="Fecha", widget=forms.DateInput(attrs={"type": "date"}))
    concept = forms.CharField(max_length=300, label="Concepto")
    origin = forms.CharField(max_length=120, required=False, label="Origen")


class EntryLineForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.none(), required=False, label="Cuenta")
    debit = forms.DecimalField(max_digits=18, decimal_places=2, required=False, min_value=0, label="Cargo")
    credit = forms.DecimalField(max_digits=18, decimal_places=2, required=False, min_value=0, label="Abono")
    description = forms.CharField(max_length=200, required=False, label="Concepto de la partida")


EntryLineFormSet = forms.formset_factory(EntryLineForm, extra=8)


@admin.register(JournalEntry)
class JournalEntryAdmin(LedgerAdmin):
    list_display = ["date", "kind", "number", "concept", "total", "status", "origin", "company"]
    list_filter = ["company", "kind", "status", "year", "month"]
    search_fields = ["concept", "origin"]
    date_hierarchy = "date"
    list_select_related = ["company"]
    inlines = [JournalLineInline]
    actions = ["cancel_entries"]

    @admin.action(description="Cancelar las pólizas seleccionadas", permissions=["change"])
    def cancel_entries(self, request, queryset):
        self.run_service(request, queryset, cancel_journal_entry, "entry", "póliza(s) cancelada(s)")

    def has_add_permission(self, request):
        return admin.ModelAdmin.has_add_permission(self, request)

    def add_view(self, request, form_url="", extra_context=None):
        """Post a manual póliza: header and lines in one screen, through the posting service."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        companies = companies_with_perm(request.user, "accounting.add_journalentry")
        form = EntryHeaderForm(request.POST or None)
        form.fields["company"].queryset = companies
        lines = EntryLineFormSet(request.POST or None, prefix="lines")
        accounts = Account.objects.filter(company__in=companies, postable=True, active=True).order_by(
            "company", "code"
        )
        for line in lines:
            line.fields["account"].queryset = accounts
        if request.method == "POST" and form.is_valid() and lines.is_valid():
            data = form.cleaned_data
            posted_lines = [
                {k: v for k, v in line.items() if v not in (None, "")}
                for line in lines.cleaned_data
                if line.get("account")
            ]
            try:
                entry = post_journal_entry(
                    company=data["company"], kind=data["kind"], date=data["date"], concept=data["concept"],
                    origin=data["origin"], lines=posted_lines, user=request.user,
                )  # fmt: skip
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, f"Póliza {entry.sat_id} registrada.", level=messages.SUCCESS)
                return redirect(reverse("admin:accounting_journalentry_change", args=[entry.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Registrar póliza",
            "form_id": "post-entry",
            "submit_label": "Registrar póliza",
            "form": form,
            "lines": lines,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/header_lines_form.html", context)


@admin.register(JournalLine)
class JournalLineAdmin(ReadOnlyPageMixin, admin.ModelAdmin):
    """E-accounting records under a line (checks, transfers, other methods), read-only."""

    list_display = ["entry", "position", "account", "debit", "credit"]
    list_select_related = ["entry", "account"]
    inlines = [PaymentRecordInline]

    def get_queryset(self, request):
        companies = companies_with_perm(request.user, "accounting.view_journalline")
        return super().get_queryset(request).filter(entry__company__in=companies)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return False  # reached from its entry, not from the index


@admin.register(ClosedPeriod)
class ClosedPeriodAdmin(CompanyScopedAdmin):
    list_display = ["company", "year", "month", "closed_at"]
    list_filter = ["company", "year"]
