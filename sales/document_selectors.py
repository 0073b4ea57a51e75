"""Reads of sales documents: the lists by entity, status tab and period, as the seed's screens."""

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from cfdi.models import CfdiDocument
from erp.errors import DomainError
from inventory.models import StockMovement

from .cfdi_mapping import SOURCE_MODEL
from .document_models import DocumentKind, DocumentStatus, SalesDocument

_EXIT = "stock_movement__status"
_GENERATED = Q(status=DocumentStatus.GENERATED)

# Each tab by the effective status (SalesDocument.effective_status): the invoice's own status
# combined with what the warehouse did with its stock exit.
STATUS_TABS = {
    "todas": None,
    "generadas": _GENERATED
    & ~Q(**{f"{_EXIT}__in": [StockMovement.Status.AUDITED, StockMovement.Status.REVERTED]}),
    "emitidas": Q(status=DocumentStatus.EMITTED) | (_GENERATED & Q(**{_EXIT: StockMovement.Status.AUDITED})),
    "revertidas": _GENERATED & Q(**{_EXIT: StockMovement.Status.REVERTED}),
    "canceladas": Q(status=DocumentStatus.CANCELLED),
    "borradores": Q(status=DocumentStatus.DRAFT),
}
PERIODS = ("hoy", "semana", "mes", "todas")


def documents_for_list(
    queryset: QuerySet, *, tab: str = "todas", period: str = "todas", month: str = ""
) -> QuerySet:
    """Filter by the status tab and the period: hoy, semana (the last seven days), mes (``month``
    as YYYY-MM, the current month when blank, the "especial" tab being any other month)."""
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
    elif period != "todas":
        raise DomainError("periodo_invalido", f"Periodo desconocido: {period}. Use hoy, semana, mes o todas.")
    return queryset.select_related(
        "entity", "currency", "customer", "salesperson", "stock_movement"
    ).order_by("-date", "-number")


def _parse_month(value: str) -> tuple[int, int]:
    try:
        year, number = (int(part) for part in value.split("-"))
        if not 1 <= number <= 12:
            raise ValueError
    except ValueError as exc:
        raise DomainError("mes_invalido", f"Mes inválido «{value}»: use el formato AAAA-MM.") from exc
    return year, number


def substitutable_invoices(entity, limit: int = 50):
    """The entity's live invoices with a stamped CFDI, newest first: those a new invoice may
    substitute (SAT cancellation motive 01, CfdiRelacionados 04)."""
    stamped = CfdiDocument.objects.filter(
        source_model=SOURCE_MODEL, status=CfdiDocument.Status.STAMPED, cancellation_status=""
    ).values("source_id")
    return (
        SalesDocument.objects.filter(entity=entity, kind=DocumentKind.INVOICE, pk__in=stamped)
        .exclude(status=DocumentStatus.CANCELLED)
        .order_by("-number")[:limit]
    )
