"""Decimal helpers. Amounts are quantized to the currency's decimals with ROUND_HALF_UP."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import DomainError

ZERO = Decimal("0")
CENT = Decimal("0.01")
# Amounts are stored as numeric(18, 2): the database holds less than 10^16 (and CFDI totals
# of that size are already beyond any real invoice).
AMOUNT_LIMIT = Decimal(10) ** 16


def to_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("Use Decimal or str for money, never float.")
    return Decimal(str(value))


def out_of_range(what: str) -> DomainError:
    return DomainError(
        "importe_fuera_de_rango",
        f"{what} excede el máximo que se puede registrar (9,999,999,999,999,999.99).",
    )


def check_amount(value, what: str = "El importe") -> Decimal:
    """``value`` as a Decimal the database can store as an amount, or a Spanish 400."""
    value = to_decimal(value)
    if not value.is_finite() or abs(value) >= AMOUNT_LIMIT:
        raise out_of_range(what)
    return value


def quantize(value, decimals: int = 2) -> Decimal:
    """A number too large to quantize (or not a number) is an amount nobody can register: a
    Spanish 400 instead of ``InvalidOperation``."""
    try:
        return to_decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise out_of_range("El importe") from exc
