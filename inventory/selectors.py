"""Reads of the warehouse: movements with lines and history, stock levels."""

from django.db.models import Prefetch

from .models import StockLevel, StockMovement, StockMovementEvent, StockMovementLine


def stock_movements(*, company):
    return (
        StockMovement.objects.filter(company=company)
        .select_related("warehouse", "journal_entry")
        .prefetch_related(
            Prefetch(
                "lines", queryset=StockMovementLine.objects.select_related("product").order_by("position")
            ),
            Prefetch(
                "events", queryset=StockMovementEvent.objects.select_related("user").order_by("at", "pk")
            ),
        )
    )


def stock_levels(*, company, warehouse=None, product=None):
    queryset = StockLevel.objects.filter(company=company).select_related("warehouse", "product")
    if warehouse is not None:
        queryset = queryset.filter(warehouse=warehouse)
    if product is not None:
        queryset = queryset.filter(product=product)
    return queryset


def stock_level(*, warehouse, product) -> StockLevel | None:
    return StockLevel.objects.filter(warehouse=warehouse, product=product).first()
