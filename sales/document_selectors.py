"""Reads of sales documents: the lists by entity, status tab and period, as the seed's screens.

The API, the cashier's list and the accountant's admin all filter through ``filter_by_tab`` and
``filter_by_period`` (``documents_for_list`` is both), so a tab or a period means one thing."""

from datetime import date, timedelta

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
# combined with what the warehouse did with its stock exit. The seed's «Todas» is every status
# the document can have once added (generated, emitted, reverted, cancelled): drafts are apart.
STATUS_TABS = {
    "todas": ~Q(status=DocumentStatus.DRAFT),
    "generadas": _GENERATED
    & ~Q(**{f"{_EXIT}__in": [StockMovement.Status.AUDITED, StockMovement.Status.REVERTED]}),
    "emitidas": Q(status=DocumentStatus.EMITTED) | (_GENERATED & Q(**{_EXIT: StockMovement.Status.AUDITED})),
    "revertidas": _GENERATED & Q(**{_EXIT: StockMovement.Status.REVERTED}),
    "canceladas": Q(status=DocumentStatus.CANCELLED),
    "borradores": Q(status=DocumentStatus.DRAFT),
}
TAB_LABELS = {
    "todas": "Todas",
    "generadas": "Generadas",
    "emitidas": "Emitidas",
    "revertidas": "Revertidas",
    "canceladas": "Canceladas",
    "borradores": "Borradores",
}
# hoy, semana (the last seven days), mes (a month, AAAA-MM), especial (a range of dates, both
# ends included) and todas (no period).
PERIODS = ("hoy", "semana", "mes", "especial", "todas")


def filter_by_tab(queryset: QuerySet, tab: str | None) -> QuerySet:
    """The status tab; ``None`` filters nothing (drafts included)."""
    if tab is None:
        return queryset
    if tab not in STATUS_TABS:
        raise DomainError("pestana_invalida", f"Pestaña de estatus desconocida: {tab}.")
    return queryset.filter(STATUS_TABS[tab])


def filter_by_period(
    queryset: QuerySet, period: str, *, month: str = "", date_from: str = "", date_to: str = ""
) -> QuerySet:
    """hoy, semana (the last seven days), mes (``month`` as AAAA-MM, the current month when
    blank), especial (``date_from`` to ``date_to`` as AAAA-MM-DD, either end may be open) or
    todas."""
    today = timezone.localdate()
    if period == "hoy":
        return queryset.filter(date=today)
    if period == "semana":
        return queryset.filter(date__gt=today - timedelta(days=7), date__lte=today)
    if period == "mes":
        year, number = _parse_month(month) if month else (today.year, today.month)
        return queryset.filter(date__year=year, date__month=number)
    if period == "especial":
        start, end = _parse_day(date_from, "Desde"), _parse_day(date_to, "Hasta")
        if start is None and end is None:
            raise DomainError(
                "rango_invalido", "Indique al menos una fecha del periodo especial (desde o hasta)."
            )
        if start and end and start > end:
            raise DomainError(
                "rango_invalido",
                f"El periodo especial empieza ({start:%d/%m/%Y}) después de que termina ({end:%d/%m/%Y}).",
            )
        if start:
            queryset = queryset.filter(date__gte=start)
        return queryset.filter(date__lte=end) if end else queryset
    if period != "todas":
        raise DomainError(
            "periodo_invalido", f"Periodo desconocido: {period}. Use hoy, semana, mes, especial o todas."
        )
    return queryset


def documents_for_list(
    queryset: QuerySet,
    *,
    tab: str | None = "todas",
    period: str = "todas",
    month: str = "",
    date_from: str = "",
    date_to: str = "",
) -> QuerySet:
    """Filter by the status tab and the period (see ``filter_by_tab``, ``filter_by_period``)."""
    queryset = filter_by_tab(queryset, tab)
    queryset = filter_by_period(queryset, period, month=month, date_from=date_from, date_to=date_to)
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


def _parse_day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise DomainError(
            "fecha_invalida", f"{name}: fecha inválida «{value}», use el formato AAAA-MM-DD."
        ) from exc


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
