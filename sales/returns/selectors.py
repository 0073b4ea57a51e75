"""Reads of returns and rebates: the module's list by entity, status tab and period."""

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from erp.errors import DomainError

from ..document_selectors import PERIODS, _parse_month
from .models import CreditNote

STATUS_TABS = {
    "todas": None,
    "emitidas": Q(status=CreditNote.Status.EMITTED),
    "canceladas": Q(status=CreditNote.Status.CANCELLED),
    "borradores": Q(status=CreditNote.Status.DRAFT),
    "devoluciones": Q(kind=CreditNote.Kind.RETURN),
    "rebajas": Q(kind=CreditNote.Kind.REBATE),
}


def credit_notes_for_list(queryset: QuerySet, *, tab: str = "todas", period: str = "todas", month: str = ""):
    """Filter by the status tab and the period, like the invoices' list."""
    if tab not in STATUS_TABS:
        raise DomainError("pestana_invalida", f"Pestaña de estatus desconocida: {tab}.")
    if STATUS_TABS[tab] is not None:
        queryset = queryset.filter(STATUS_TABS[tab])
    today = timezone.localdate()
    if period == "hoy":
        queryset = queryset.filter(date=today)
    elif period == "semana":
        queryset = queryset.filter(date__gt=today - timedelta(days=7), date__lte=today)
    elif period == "mes":
        year, number = _parse_month(month) if month else (today.year, today.month)
        queryset = queryset.filter(date__year=year, date__month=number)
    elif period not in PERIODS:
        raise DomainError("periodo_invalido", f"Periodo desconocido: {period}. Use hoy, semana, mes o todas.")
    return queryset.select_related("entity", "currency", "invoice").order_by("-date", "-number")


def live_credit_note(invoice) -> CreditNote | None:
    """A credit note that still stands on the invoice (a draft or an emitted one)."""
    return (
        CreditNote.objects.filter(invoice=invoice)
        .exclude(status=CreditNote.Status.CANCELLED)
        .order_by("pk")
        .first()
    )
