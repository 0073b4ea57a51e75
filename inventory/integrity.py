"""Stock levels equal to their movements: what a warehouse holds of a product is the sum of the
lines of its live movements (generated or audited; reverted and cancelled ones were undone)."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from .models import StockLevel, StockMovement, StockMovementLine

LIVE = (StockMovement.Status.GENERATED, StockMovement.Status.AUDITED)


def stock_level_breaks(company) -> list[str]:
    moved = defaultdict(Decimal)
    rows = (
        StockMovementLine.objects.filter(movement__company=company, movement__status__in=LIVE)
        .values("movement__warehouse", "movement__kind", "product")
        .annotate(quantity=Sum("quantity"))
    )
    for row in rows:
        sign = 1 if row["movement__kind"] == StockMovement.Kind.ENTRY else -1
        moved[(row["movement__warehouse"], row["product"])] += sign * row["quantity"]
    levels = {
        (level.warehouse_id, level.product_id): level
        for level in StockLevel.objects.filter(company=company).select_related("warehouse", "product")
    }
    breaks = []
    for key in sorted(set(moved) | set(levels)):
        level = levels.get(key)
        held = level.quantity if level else Decimal(0)
        if held != moved.get(key, Decimal(0)):
            name = (
                f"{level.product.code} en {level.warehouse.code}"
                if level
                else f"producto {key[1]} en bodega {key[0]}"
            )
            breaks.append(
                f"Existencia de {name}: {held}; sus movimientos suman {moved.get(key, Decimal(0))}."
            )
    return breaks
