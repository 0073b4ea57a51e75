"""Cashier screens: the invoice list by entity, status tab and period, and the entry form.

The entry form computes nothing itself: it asks the API's preview for lines and totals, so the
screen, the API and the CFDI always agree (one calculation, erp.taxes)."""

import uuid
from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cashbank.models import PaymentMethod
from erp.errors import DomainError
from erp.models import Currency
from erp.roles import companies_with_perm

from .document_models import DocumentKind, DocumentStatus, Payment, SalesDocument
from .document_selectors import documents_for_list, substitutable_invoices
from .global_invoice.models import GlobalInvoice
from .global_invoice.services import issue_current_global_invoice
from .invoice_cfdi import cfdi_column
from .models import SalesEntity

CFDI_WORDS = {"---": "Sin CFDI", "TFD": "Timbrado", "PDF": "Timbrado"}
# Rows a page of the cashier's list shows; the pages below it reach every invoice of the period.
LIST_PAGE_SIZE = 100
MONTH_NAMES = ["Ene", "Feb", "Mar", "Abr", "May", "Jun", "Jul", "Ago", "Sep", "Oct", "Nov", "Dic"]


def _entities(user, perm: str):
    return SalesEntity.objects.filter(company__in=companies_with_perm(user, perm), active=True).order_by(
        "company__legal_name", "code"
    )


@login_required
def invoice_list(request, entity_id: int | None = None, notice: str = "", notice_error: str = ""):
    entities = _entities(request.user, "sales.view_salesdocument")
    entity = get_object_or_404(entities, pk=entity_id) if entity_id else entities.first()
    if entity is None:
        raise Http404("Su usuario no tiene entidades de venta.")
    tab = request.GET.get("tab", "todas")
    period = request.GET.get("period", "hoy")
    month = request.GET.get("month", "")
    error = ""
    invoices = SalesDocument.objects.none()
    try:
        invoices = documents_for_list(
            SalesDocument.objects.filter(kind=DocumentKind.INVOICE, entity=entity),
            tab=tab,
            period=period,
            month=month,
        )
    except DomainError as exc:
        error = exc.message
    page = Paginator(invoices, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    invoices = list(page.object_list)
    columns = cfdi_column(invoices)  # the CFDI column (---, TFD, PDF) in one query
    for invoice in invoices:
        invoice.cfdi_state = columns.get(invoice.pk, "---")
        # One word for the CFDI's state; the XML/PDF links sit beside it in the template.
        invoice.cfdi_word = CFDI_WORDS.get(invoice.cfdi_state, invoice.cfdi_state)
        if invoice.ticket and invoice.cfdi_state == "---":
            invoice.cfdi_word = "Ticket"  # its CFDI is the global invoice of its period
        invoice.shown_status = invoice.effective_status
        invoice.shown_status_label = DocumentStatus(invoice.shown_status).label
    today = timezone.localdate()
    months = [(f"{today.year}-{m:02d}", MONTH_NAMES[m - 1]) for m in range(1, today.month + 1)]
    return render(
        request,
        "sales/invoice_list.html",
        {
            "entities": entities,
            "entity": entity,
            "invoices": invoices,
            "page": page,
            "tab": tab,
            "period": period,
            "month": month,
            "months": months,
            "error": error,
            "tabs": [
                ("todas", "Todas"),
                ("generadas", "Generadas"),
                ("emitidas", "Emitidas"),
                ("revertidas", "Revertidas"),
                ("canceladas", "Canceladas"),
                ("borradores", "Borradores"),
            ],
            "can_add": entity.company in companies_with_perm(request.user, "sales.add_salesdocument"),
            "can_pay": entity.company in companies_with_perm(request.user, "sales.add_customerpayment"),
            "can_global": entity.counter_tickets
            and entity.company in companies_with_perm(request.user, "sales.add_globalinvoice"),
            "notice": notice or _global_notice(request, entity),
            "notice_error": notice_error,
        },
    )


def _global_notice(request, entity) -> str:
    value = request.GET.get("global", "")
    global_invoice = (
        GlobalInvoice.objects.filter(entity=entity, pk=value).first() if value.isdigit() else None
    )
    if global_invoice is None:
        return ""
    state = "emitida" if global_invoice.status == GlobalInvoice.Status.ISSUED else "registrada"
    count = global_invoice.tickets.filter(active=True).count()
    return f"Factura global FG{global_invoice.pk} {state}: {count} ticket(s) por {global_invoice.total:,.2f}."


@login_required
@require_POST
def global_invoice_issue(request, entity_id: int):
    """The cashier's «Factura global»: the tickets not yet invoiced of the period in course."""
    entity = get_object_or_404(_entities(request.user, "sales.add_globalinvoice"), pk=entity_id)
    try:
        global_invoice = issue_current_global_invoice(entity=entity, user=request.user)
    except DomainError as error:
        return invoice_list(request, entity_id=entity.pk, notice_error=error.message)
    return redirect(f"{reverse('sales:invoice-list-entity', args=[entity.pk])}?global={global_invoice.pk}")


def _draft_data(draft: SalesDocument) -> dict:
    """The draft as the entry form's fields, so that the cashier corrects what was typed."""
    return {
        "id": draft.pk,
        "customer": draft.customer_number,
        "date": draft.date.isoformat(),
        "delivery_date": draft.delivery_date.isoformat() if draft.delivery_date else "",
        "payment": draft.payment,
        "currency": draft.currency.code,
        "exchange_rate": "" if draft.currency.is_national else str(draft.exchange_rate),
        "reference": draft.reference,
        "salesperson": draft.salesperson.number if draft.salesperson else "",
        "observations": draft.observations,
        "substitutes": draft.substitutes_id or "",
        "lines": [
            {
                "product": line.code,
                "quantity": f"{line.quantity.normalize():f}",
                "unit_price": f"{line.unit_price.normalize():f}",
                "discount_rate": f"{line.discount_rate.normalize():f}" if line.discount_rate else "",
                "iva_rate": "" if line.iva_rate is None else f"{line.iva_rate.normalize():f}",
            }
            for line in draft.lines.all()
        ],
    }


@login_required
def invoice_draft(request, entity_id: int, document_id: int):
    """A draft that was not posted (a posting that failed leaves it so): the entry form filled
    with it, to correct and accept it again, or to discard it."""
    entity = get_object_or_404(_entities(request.user, "sales.change_salesdocument"), pk=entity_id)
    draft = get_object_or_404(
        SalesDocument.objects.select_related("currency", "salesperson").prefetch_related("lines"),
        pk=document_id,
        entity=entity,
        kind=DocumentKind.INVOICE,
    )
    if draft.status != DocumentStatus.DRAFT:
        raise Http404("La factura ya no es un borrador.")
    return invoice_entry(request, entity_id, draft=draft)


@login_required
def invoice_entry(request, entity_id: int, draft: SalesDocument | None = None):
    entity = get_object_or_404(_entities(request.user, "sales.add_salesdocument"), pk=entity_id)
    return render(
        request,
        "sales/invoice_entry.html",
        {
            "entity": entity,
            "today": date.isoformat(timezone.localdate()),
            "currencies": Currency.objects.order_by("-is_national", "code"),
            "payments": Payment.choices,
            "cash_accounts": entity.cash_accounts.filter(active=True).select_related("currency"),
            "methods": PaymentMethod.choices,
            "idempotency_key": uuid.uuid4().hex,
            "substitutable": substitutable_invoices(entity),
            "draft": _draft_data(draft) if draft else None,
        },
    )
