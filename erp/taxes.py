"""The one tax and totals calculation: every invoice, return, import and CFDI uses it.

Rates come in PERCENT, as the catalogs keep them (16, 8, 0, 26.5, 10.6667); they become SAT's
TasaOCuota with six decimals (16 -> 0.160000) and every amount is computed from that six-decimal
rate, so what a screen shows and what the CFDI says can never differ.

Per line (concepto), with ``d`` the currency's decimals and ROUND_HALF_UP:

    importe    = round(cantidad × valor unitario, d)
    descuento  = round(descuento, d)
    base       = importe − descuento
    IEPS       = round(base × tasa IEPS, d)
    IVA        = round((base + IEPS) × tasa IVA, d)      # IVA base includes IEPS (LIVA art. 18)
    ret. IVA   = round(base × tasa ret. IVA, d)
    ret. ISR   = round(base × tasa ret. ISR, d)

Per document:

    importe    = Σ importe              (CFDI SubTotal)
    descuento  = Σ descuento            (CFDI Descuento)
    subtotal   = importe − descuento    (the "Sub total" screens show)
    traslados  = rows grouped by (impuesto, tipo factor, tasa): Σ base, Σ importe
    retenciones= rows grouped by impuesto: Σ importe
    total      = subtotal + IVA + IEPS − ret. IVA − ret. ISR

Because every line amount is already rounded to the currency's decimals, the sums are exact and
SAT's validations hold by construction: 40108 (SubTotal), 40110 (Descuento ≤ SubTotal), 40119
(Total), 40167 (line importe within [trunc(lower), ceil(upper)] of cantidad × valor unitario),
40180/40186 (line tax within the limits of base × tasa), 40211/40215/40221 (summary rows equal
the sums of the lines). Line amounts are kept at the currency's decimals rather than SAT's
allowed six so that the summary never needs a second rounding.

Exempt IVA (``iva_exempt=True``) produces a Traslado with TipoFactor "Exento": a base and no rate
or amount. A line with no tax at all is "no objeto de impuesto" (ObjetoImp 01).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from .errors import DomainError
from .money import ZERO, quantize, to_decimal

IVA = "002"
IEPS = "003"
ISR = "001"

TASA = "Tasa"
EXENTO = "Exento"

RATE_DECIMALS = 6
HUNDRED = Decimal(100)


def rate_from_percent(percent) -> Decimal:
    """16 -> Decimal('0.160000'); 10.6667 -> Decimal('0.106667')."""
    return (to_decimal(percent) / HUNDRED).quantize(Decimal(1).scaleb(-RATE_DECIMALS))


@dataclass(frozen=True)
class LineInput:
    """One line as the user typed it. Amounts in the document's currency, rates in percent."""

    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = ZERO
    iva_rate: Decimal | None = None  # percent; None: no IVA on this line
    iva_exempt: bool = False  # IVA exento (overrides iva_rate)
    ieps_rate: Decimal = ZERO  # percent; 0: no IEPS
    retained_iva_rate: Decimal = ZERO  # percent
    retained_isr_rate: Decimal = ZERO  # percent


@dataclass(frozen=True)
class TaxAmount:
    """One tax on a line or one summary row. ``rate`` and ``amount`` are None when exempt."""

    tax: str  # SAT c_Impuesto: 001 ISR, 002 IVA, 003 IEPS
    factor: str  # Tasa or Exento
    rate: Decimal | None
    base: Decimal
    amount: Decimal | None


@dataclass(frozen=True)
class LineTaxes:
    importe: Decimal
    discount: Decimal
    base: Decimal
    transferred: tuple[TaxAmount, ...] = ()
    withheld: tuple[TaxAmount, ...] = ()

    @property
    def objeto_imp(self) -> str:
        return "02" if (self.transferred or self.withheld) else "01"

    def _sum(self, taxes, tax) -> Decimal:
        return sum((t.amount or ZERO for t in taxes if t.tax == tax), ZERO)

    @property
    def iva(self) -> Decimal:
        return self._sum(self.transferred, IVA)

    @property
    def ieps(self) -> Decimal:
        return self._sum(self.transferred, IEPS)

    @property
    def retained_iva(self) -> Decimal:
        return self._sum(self.withheld, IVA)

    @property
    def retained_isr(self) -> Decimal:
        return self._sum(self.withheld, ISR)


@dataclass(frozen=True)
class DocumentTotals:
    lines: tuple[LineTaxes, ...]
    importe: Decimal  # CFDI SubTotal
    discount: Decimal  # CFDI Descuento
    subtotal: Decimal  # importe − descuento
    iva: Decimal
    ieps: Decimal
    retained_iva: Decimal
    retained_isr: Decimal
    total: Decimal
    transferred: tuple[TaxAmount, ...] = field(default=())  # summary rows per (tax, factor, rate)
    withheld: tuple[TaxAmount, ...] = field(default=())  # summary rows per tax (base summed too)

    @property
    def total_transferred(self) -> Decimal | None:
        """CFDI TotalImpuestosTrasladados: None when there is no non-exempt traslado."""
        amounts = [t.amount for t in self.transferred if t.amount is not None]
        return sum(amounts, ZERO) if amounts else None

    @property
    def total_withheld(self) -> Decimal | None:
        return sum((t.amount for t in self.withheld), ZERO) if self.withheld else None


def compute_line(line: LineInput, decimals: int = 2) -> LineTaxes:
    """Amounts of one line, each rounded to ``decimals`` (the currency's) with ROUND_HALF_UP."""
    quantity = to_decimal(line.quantity)
    unit_price = to_decimal(line.unit_price)
    if quantity <= 0:
        raise DomainError("cantidad_invalida", "La cantidad debe ser mayor que cero.")
    if unit_price < 0:
        raise DomainError("precio_invalido", "El precio unitario no puede ser negativo.")
    importe = quantize(quantity * unit_price, decimals)
    discount = quantize(line.discount or ZERO, decimals)
    if discount < 0 or discount > importe:
        raise DomainError(
            "descuento_invalido", "El descuento debe estar entre cero y el importe de la partida."
        )
    base = importe - discount

    transferred = []
    ieps_amount = ZERO
    if to_decimal(line.ieps_rate or ZERO) > 0:
        rate = rate_from_percent(line.ieps_rate)
        ieps_amount = quantize(base * rate, decimals)
        transferred.append(TaxAmount(IEPS, TASA, rate, base, ieps_amount))
    if line.iva_exempt:
        transferred.insert(0, TaxAmount(IVA, EXENTO, None, base, None))
    elif line.iva_rate is not None:
        rate = rate_from_percent(line.iva_rate)
        iva_base = base + ieps_amount
        transferred.insert(0, TaxAmount(IVA, TASA, rate, iva_base, quantize(iva_base * rate, decimals)))

    withheld = []
    for tax, percent in ((IVA, line.retained_iva_rate), (ISR, line.retained_isr_rate)):
        if to_decimal(percent or ZERO) > 0:
            rate = rate_from_percent(percent)
            withheld.append(TaxAmount(tax, TASA, rate, base, quantize(base * rate, decimals)))

    return LineTaxes(importe, discount, base, tuple(transferred), tuple(withheld))


def summarize(lines: Iterable[LineTaxes]) -> DocumentTotals:
    """Document totals and SAT's summary rows from already computed lines."""
    lines = tuple(lines)
    importe = sum((ln.importe for ln in lines), ZERO)
    discount = sum((ln.discount for ln in lines), ZERO)

    transferred: OrderedDict[tuple, list[Decimal | None]] = OrderedDict()
    withheld: OrderedDict[str, list[Decimal]] = OrderedDict()
    for ln in lines:
        for t in ln.transferred:
            row = transferred.setdefault((t.tax, t.factor, t.rate), [ZERO, None])
            row[0] += t.base
            if t.amount is not None:
                row[1] = (row[1] or ZERO) + t.amount
        for t in ln.withheld:
            row = withheld.setdefault(t.tax, [ZERO, ZERO])
            row[0] += t.base
            row[1] += t.amount

    transferred_rows = tuple(
        TaxAmount(tax, factor, rate, base, amount)
        for (tax, factor, rate), (base, amount) in transferred.items()
    )
    withheld_rows = tuple(
        TaxAmount(tax, TASA, None, base, amount) for tax, (base, amount) in withheld.items()
    )

    iva = sum((ln.iva for ln in lines), ZERO)
    ieps = sum((ln.ieps for ln in lines), ZERO)
    retained_iva = sum((ln.retained_iva for ln in lines), ZERO)
    retained_isr = sum((ln.retained_isr for ln in lines), ZERO)
    subtotal = importe - discount
    total = subtotal + iva + ieps - retained_iva - retained_isr
    return DocumentTotals(
        lines=lines,
        importe=importe,
        discount=discount,
        subtotal=subtotal,
        iva=iva,
        ieps=ieps,
        retained_iva=retained_iva,
        retained_isr=retained_isr,
        total=total,
        transferred=transferred_rows,
        withheld=withheld_rows,
    )


def compute_document(lines: Iterable[LineInput], decimals: int = 2) -> DocumentTotals:
    """Lines and totals of a document; ``decimals`` is the currency's (MXN and USD: 2)."""
    return summarize(compute_line(line, decimals) for line in lines)
