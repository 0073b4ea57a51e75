"""Decimal helpers. Amounts are quantized to the currency's decimals with ROUND_HALF_UP."""

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
CENT = Decimal("0.01")


def to_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("Use Decimal or str for money, never float.")
    return Decimal(str(value))


def quantize(value, decimals: int = 2) -> Decimal:
    return to_decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
