"""Reads of returns and rebates: the module's list by entity, status tab and period."""

from django.db.models import Q, QuerySet

from erp.errors import DomainError

from ..document_selectors import filter_by_period
from .models import CreditNote

STATUS_TABS = {
    "todas": None,
    "emitidas": Q(status=CreditNote.Status.EMITTED),
    "canceladas": Q(status=CreditNote.Status.CANCELLED),
    "borradores": Q(status=CreditNote.Status.DRAFT),
    "devoluciones": Q(kind=CreditNote.Kind.RETURN),
    "rebajas": Q(kind=CreditNote.Kind.REBATE),
}


def credit_notes_for_list(
    queryset: QuerySet,
    *,
    tab: str = "todas",
    period: str = "todas",
    month: str = "",
    date_from: str = "",
    date_to: str = "",
):
    """Filter by the status tab and the period, like the invoices' list (the same periods)."""
    if tab not in STATUS_TABS:
        raise DomainError("pestana_invalida", f"Pestaña de estatus desconocida: {tab}.")
    if STATUS_TABS[tab] is not None:
        queryset = queryset.filter(STATUS_TABS[tab])
    queryset = filter_by_period(queryset, period, month=month, date_from=date_from, date_to=date_to)
    return queryset.select_related("entity", "currency", "invoice").order_by("-date", "-number")


def live_credit_note(invoice) -> CreditNote | None:
    """A credit note that still stands on the invoice (a draft or an emitted one)."""
    return (
        CreditNote.objects.filter(invoice=invoice)
        .exclude(status=CreditNote.Status.CANCELLED)
        .order_by("pk")
        .first()
    )
