"""The reports' pages (linked from the admin index), each with ?formato=xlsx and ?formato=pdf."""

import calendar
from datetime import date as Date

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.shortcuts import render as _render
from django.utils import timezone

from accounting.models import Account
from erp.roles import companies_with_perm
from sales.models import Customer

from . import builders
from .render import pdf, table, xlsx

# slug: (title, the permission that shows it, what it tells)
REPORTS = {
    "balanza": ("Balanza de comprobación", "accounting.view_journalentry",
                "Saldos, cargos y abonos por cuenta en un periodo; cada cuenta lleva a sus pólizas."),
    "estado-de-cuenta": ("Estado de cuenta de cliente", "sales.view_receivable",
                         "Cargos, abonos y saldo de un cliente."),
    "antiguedad": ("Antigüedad de saldos", "sales.view_receivable",
                   "Saldos por cobrar por vencer, a 1–30, 31–60, 61–90 y más de 90 días."),
    "existencias": ("Existencias y valuación", "inventory.view_stocklevel",
                    "Existencia, costo promedio y valor por bodega."),
    "caja-y-bancos": ("Saldos de caja y bancos", "cashbank.view_cashbankaccount",
                      "Saldo de cada cuenta de caja y banco a una fecha."),
    "ventas-por-dia": ("Ventas por día", "sales.view_salesdocument",
                       "Facturas del mes por día, con su gráfica."),
}  # fmt: skip


class BadParameter(Exception):
    pass


def _date(request, name: str, default: Date | None) -> Date | None:
    value = request.GET.get(name, "")
    if not value:
        return default
    try:
        return Date.fromisoformat(value)
    except ValueError as exc:
        raise BadParameter(f"Fecha inválida «{value}»: use AAAA-MM-DD.") from exc


def _company(request, perm: str):
    companies = companies_with_perm(request.user, perm).order_by("legal_name")
    chosen = request.GET.get("empresa")
    company = companies.filter(pk=chosen).first() if chosen and chosen.isdigit() else companies.first()
    if company is None:
        raise Http404("Su rol no tiene acceso a este reporte.")
    return company, companies


def render(request, template, context, status=200):
    """The admin's page frame (its header, the user's links) around a report."""
    return _render(request, template, {**admin.site.each_context(request), **context}, status=status)


def _respond(request, report, companies, form: dict):
    output = request.GET.get("formato", "")
    filename = f"{report.slug}-{report.company.rfc}"
    if output == "xlsx":
        response = HttpResponse(
            xlsx(report), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
        return response
    if output == "pdf":
        response = HttpResponse(pdf(report), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
        return response
    query = request.GET.copy()
    query.pop("formato", None)
    return render(
        request,
        "reports/report.html",
        {
            "report": report,
            **table(report),
            "companies": companies,
            "form": form,
            "query": query.urlencode(),
            "title": report.title,
        },
    )


def _error(request, message: str, status: int = 400):
    return render(request, "reports/report.html", {"error": message, "title": "Reporte"}, status=status)


@staff_member_required
def index(request):
    allowed = [
        (slug, title, text)
        for slug, (title, perm, text) in REPORTS.items()
        if companies_with_perm(request.user, perm).exists()
    ]
    return render(request, "reports/index.html", {"reports": allowed, "title": "Reportes"})


def _month_bounds(today: Date) -> tuple[Date, Date]:
    return today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1])


@staff_member_required
def trial_balance(request):
    company, companies = _company(request, REPORTS["balanza"][1])
    first, last = _month_bounds(timezone.localdate())
    try:
        date_from, date_to = _date(request, "desde", first), _date(request, "hasta", last)
    except BadParameter as exc:
        return _error(request, str(exc))
    if date_from > date_to:
        return _error(request, "La fecha inicial no puede ser posterior a la final.")
    report = builders.trial_balance_report(company=company, date_from=date_from, date_to=date_to)
    return _respond(request, report, companies, {"desde": date_from, "hasta": date_to})


@staff_member_required
def trial_balance_account(request, account_id: int):
    companies = companies_with_perm(request.user, REPORTS["balanza"][1])
    account = get_object_or_404(
        Account.objects.select_related("company"), pk=account_id, company__in=companies
    )
    first, last = _month_bounds(timezone.localdate())
    try:
        date_from, date_to = _date(request, "desde", first), _date(request, "hasta", last)
    except BadParameter as exc:
        return _error(request, str(exc))
    report = builders.account_entries_report(account=account, date_from=date_from, date_to=date_to)
    return _respond(request, report, None, {"desde": date_from, "hasta": date_to})


@staff_member_required
def customer_statement(request):
    company, companies = _company(request, REPORTS["estado-de-cuenta"][1])
    customers = (
        Customer.objects.filter(company=company).select_related("entity").order_by("entity__code", "number")
    )
    chosen = request.GET.get("cliente", "")
    customer = customers.filter(pk=chosen).first() if chosen.isdigit() else None
    try:
        date_from, date_to = _date(request, "desde", None), _date(request, "hasta", None)
    except BadParameter as exc:
        return _error(request, str(exc))
    if customer is None:
        return render(
            request,
            "reports/report.html",
            {"title": "Estado de cuenta de cliente", "companies": companies, "customers": customers,
             "form": {"empresa": company.pk}, "choose_customer": True},
        )  # fmt: skip
    report = builders.customer_statement_report(customer=customer, date_from=date_from, date_to=date_to)
    return _respond(
        request, report, companies, {"desde": date_from, "hasta": date_to, "cliente": customer.pk}
    )


@staff_member_required
def aging(request):
    company, companies = _company(request, REPORTS["antiguedad"][1])
    try:
        at = _date(request, "al", timezone.localdate())
    except BadParameter as exc:
        return _error(request, str(exc))
    return _respond(request, builders.aging_report(company=company, at=at), companies, {"al": at})


@staff_member_required
def stock(request):
    company, companies = _company(request, REPORTS["existencias"][1])
    return _respond(request, builders.stock_report(company=company), companies, {})


@staff_member_required
def cash(request):
    company, companies = _company(request, REPORTS["caja-y-bancos"][1])
    try:
        at = _date(request, "al", timezone.localdate())
    except BadParameter as exc:
        return _error(request, str(exc))
    return _respond(request, builders.cash_report(company=company, at=at), companies, {"al": at})


@staff_member_required
def sales_by_day(request):
    company, companies = _company(request, REPORTS["ventas-por-dia"][1])
    month = request.GET.get("mes") or timezone.localdate().strftime("%Y-%m")
    try:
        year, number = (int(part) for part in month.split("-"))
        Date(year, number, 1)
    except ValueError:
        return _error(request, f"Mes inválido «{month}»: use el formato AAAA-MM.")
    report = builders.sales_by_day_report(company=company, month=f"{year:04d}-{number:02d}")
    return _respond(request, report, companies, {"mes": f"{year:04d}-{number:02d}"})
