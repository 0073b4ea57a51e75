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
    traslados  = rows grouped by (impuesto, tipo factor, tasa): round(Σ base, d), Σ importe
    retenciones= rows grouped by impuesto: Σ importe
    total      = subtotal + IVA + IEPS − ret. IVA − ret. ISR

Because every line amount is already rounded to the currency's decimals, the sums are exact and
SAT's validations hold by construction: 40108 (SubTotal), 40110 (Descuento ≤ SubTotal), 40119
(Total), 40167 (line importe within [trunc(lower), ceil(upper)] of cantidad × valor unitario),
40180/40186 (line tax within the limits of base × tasa), 40211/40215/40221 (summary rows equal
the sums of the lines). Line amounts are kept at the currency's decimals rather than SAT's
allowed six so that the summary never needs a second rounding.

Exempt IVA (``iva_exempt=True``) produces a Traslado with TipoFactor "Exento": a base and no rate
or amount, so the line is ObjetoImp 02 (LIVA art. 9, 15 and 20 exempt an operation that is still
object of the tax). A line with no tax at all is "no objeto de impuesto" (ObjetoImp 01).

IEPS may be a rate (TipoFactor Tasa) or a quota per unit (TipoFactor Cuota, LIEPS art. 2-A,
fuels): then its Base is the quantity and ``IEPS = round(cantidad × cuota, d)``. The concept's
Base is the quantity as typed (up to six decimals, cfdv40.xsd); the summary row's Base is the sum
of those quantities rounded once, half up, to the currency's decimals (CFDI40214: no more decimals
than the currency; CFDI40215: "el redondeo de la suma" of the concepts' Bases). That rounding is
done here, in ``summarize``, so the CFDI writer only writes what this module decided: 12.345 L
is a summary Base of 12.35 (a writer rounding half-even wrote 12.34 and SAT refused it).

Which IVA treatment a line has and which retentions apply are decided here too, from the
product's treatment and operation and from the parties (``retention_rates``, ``RETENTION_RULES``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from .errors import DomainError
from .money import ZERO, quantize, to_decimal
from .rfc import is_generic_rfc, person_type
from .sat_catalogs import frontier_stimulus

IVA = "002"
IEPS = "003"
ISR = "001"

TASA = "Tasa"
CUOTA = "Cuota"
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
    ieps_quota: Decimal = ZERO  # pesos per unit (TipoFactor Cuota); overrides ieps_rate


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
    if to_decimal(line.ieps_quota or ZERO) > 0:
        quota = to_decimal(line.ieps_quota).quantize(Decimal(1).scaleb(-RATE_DECIMALS))
        ieps_amount = quantize(quantity * quota, decimals)
        transferred.append(TaxAmount(IEPS, CUOTA, quota, quantity, ieps_amount))
    elif to_decimal(line.ieps_rate or ZERO) > 0:
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


def summarize(lines: Iterable[LineTaxes], decimals: int = 2) -> DocumentTotals:
    """Document totals and SAT's summary rows from already computed lines. A summary Traslado's
    Base is the sum of its lines' Bases rounded half up to ``decimals`` (CFDI40214/40215): already
    exact for Tasa and Exento rows, whose line Bases are amounts; rounded once here for Cuota rows,
    whose line Bases are quantities."""
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
        TaxAmount(tax, factor, rate, quantize(base, decimals), amount)
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
    return summarize((compute_line(line, decimals) for line in lines), decimals)


# -- Who pays which tax: IVA treatment and retentions by parties ------------------------------

# A product's IVA treatment (c_ObjetoImp and the Traslado it produces).
IVA_TAXED = "gravado"  # the entity's rate: 16%, or 8% from a frontier branch (ObjetoImp 02)
IVA_ZERO = "tasa_0"  # LIVA art. 2-A: food, medicine… (ObjetoImp 02, Tasa 0.000000)
IVA_EXEMPT = "exento"  # LIVA art. 9, 15 and 20 (ObjetoImp 02, TipoFactor Exento)
IVA_NOT_OBJECT = "no_objeto"  # not an act LIVA taxes (ObjetoImp 01)
IVA_TREATMENTS = (
    (IVA_TAXED, "Gravado (16%, u 8% en región fronteriza)"),
    (IVA_ZERO, "Tasa 0% (LIVA art. 2-A)"),
    (IVA_EXEMPT, "Exento (LIVA art. 9, 15 y 20)"),
    (IVA_NOT_OBJECT, "No objeto de impuesto"),
)

# The kind of operation a product is, which is what the retention rules ask.
OPERATION_GOODS = "general"  # goods and services no retention rule names
OPERATION_PROFESSIONAL = "honorarios"  # servicios profesionales independientes
OPERATION_RENT = "arrendamiento"  # uso o goce temporal de bienes
OPERATION_FREIGHT = "autotransporte"  # autotransporte terrestre de bienes
OPERATION_PERSONNEL = "personal"  # servicios que ponen personal a disposición del contratante
OPERATIONS = (
    (OPERATION_GOODS, "Enajenación de bienes u otros servicios"),
    (OPERATION_PROFESSIONAL, "Servicios profesionales (honorarios)"),
    (OPERATION_RENT, "Arrendamiento (uso o goce temporal de bienes)"),
    (OPERATION_FREIGHT, "Autotransporte terrestre de bienes (fletes)"),
    (OPERATION_PERSONNEL, "Servicios de personal (subcontratación permitida)"),
)

FRONTIER_IVA_RATE = Decimal("8")
GENERAL_IVA_RATE = Decimal("16")
TWO_THIRDS = "2/3"  # of the IVA the line transfers (RLIVA art. 3, fr. I)

MORAL = "moral"
FISICA = "fisica"
# Personas físicas with business activity (RLIVA/LIVA: "con actividades empresariales").
BUSINESS_REGIMES = frozenset({"612", "621", "625", "626"})


@dataclass(frozen=True)
class Party:
    """The issuer or the receiver, as far as the retention rules care."""

    rfc: str
    regimen_fiscal: str

    @property
    def generic(self) -> bool:
        return is_generic_rfc(self.rfc)

    @property
    def person_type(self) -> str:
        return person_type(self.rfc)


@dataclass(frozen=True)
class RetentionRule:
    tax: str  # ISR or IVA
    operations: frozenset[str] | None  # None: every operation
    issuer_person: str | None  # FISICA, or None for any issuer
    issuer_regimes: frozenset[str] | None  # None: any régimen
    receiver: str  # MORAL: personas morales; "empresarial": morales and físicas with business activity
    rate: Decimal | str  # percent, or TWO_THIRDS of the line's IVA rate
    article: str


RETENTION_RULES: tuple[RetentionRule, ...] = (
    RetentionRule(
        ISR,
        frozenset({OPERATION_PROFESSIONAL}),
        FISICA,
        frozenset({"612"}),
        MORAL,
        Decimal("10"),
        "LISR art. 106, penúltimo párrafo: las personas morales retienen 10% por honorarios.",
    ),
    RetentionRule(
        ISR,
        frozenset({OPERATION_RENT}),
        FISICA,
        frozenset({"606", "612"}),
        MORAL,
        Decimal("10"),
        "LISR art. 116, tercer párrafo: las personas morales retienen 10% por arrendamiento.",
    ),
    RetentionRule(
        ISR,
        None,
        FISICA,
        frozenset({"626"}),
        MORAL,
        Decimal("1.25"),
        "LISR art. 113-J: las personas morales retienen 1.25% a las personas físicas del RESICO.",
    ),
    RetentionRule(
        IVA,
        frozenset({OPERATION_PROFESSIONAL, OPERATION_RENT}),
        FISICA,
        None,
        MORAL,
        TWO_THIRDS,
        "LIVA art. 1-A, fr. II, inciso a) y RLIVA art. 3, fr. I: las personas morales retienen dos "
        "terceras partes del IVA por servicios personales independientes y uso o goce de bienes.",
    ),
    RetentionRule(
        IVA,
        frozenset({OPERATION_FREIGHT}),
        None,
        None,
        MORAL,
        Decimal("4"),
        "LIVA art. 1-A, fr. II, inciso c): las personas morales retienen 4% del valor del autotransporte "
        "terrestre de bienes.",
    ),
    RetentionRule(
        IVA,
        frozenset({OPERATION_PERSONNEL}),
        None,
        None,
        "empresarial",
        Decimal("6"),
        "LIVA art. 1-A, fr. IV: las personas morales y las físicas con actividad empresarial retienen "
        "6% de los servicios que ponen personal a su disposición.",
    ),
)


def _receiver_retains(rule: RetentionRule, receiver: Party) -> bool:
    """Only a receiver the law makes a retainer retains; XAXX010101000 and XEXX010101000 never."""
    if receiver.generic:
        return False
    if receiver.person_type == MORAL:
        return True
    return rule.receiver == "empresarial" and receiver.regimen_fiscal in BUSINESS_REGIMES


def _rule_applies(rule: RetentionRule, *, operation: str, issuer: Party, receiver: Party) -> bool:
    return (
        (rule.operations is None or operation in rule.operations)
        and (rule.issuer_person is None or issuer.person_type == rule.issuer_person)
        and (rule.issuer_regimes is None or issuer.regimen_fiscal in rule.issuer_regimes)
        and _receiver_retains(rule, receiver)
    )


def retention_rates(
    *,
    operation: str,
    issuer: Party,
    receiver: Party,
    iva_rate: Decimal | None,
    iva_exempt: bool = False,
) -> tuple[Decimal, Decimal]:
    """(retención de IVA %, retención de ISR %) of a line, from ``RETENTION_RULES``.

    IVA is retained only from IVA the line transfers (not exempt, not 0%, not "no objeto").
    When two rules of the same tax apply, the first of the table wins."""
    transfers_iva = not iva_exempt and iva_rate is not None and to_decimal(iva_rate) > 0
    rates = {IVA: ZERO, ISR: ZERO}
    decided = set()
    for rule in RETENTION_RULES:
        if rule.tax in decided or not _rule_applies(
            rule, operation=operation, issuer=issuer, receiver=receiver
        ):
            continue
        if rule.tax == IVA:
            if not transfers_iva:
                continue
            if rule.rate == TWO_THIRDS:
                rate = (to_decimal(iva_rate) * 2 / 3).quantize(Decimal("0.0001"))
            else:
                rate = rule.rate
        else:
            rate = rule.rate
        rates[rule.tax] = rate
        decided.add(rule.tax)
    return rates[IVA], rates[ISR]


def iva_for_treatment(treatment: str, *, entity_rate: Decimal) -> tuple[Decimal | None, bool]:
    """(IVA rate %, exempt) of a line from the product's treatment and the entity's rate."""
    if treatment == IVA_NOT_OBJECT:
        return None, False
    if treatment == IVA_EXEMPT:
        return None, True
    if treatment == IVA_ZERO:
        return ZERO, False
    return to_decimal(entity_rate), False


def fiscal_refusal(
    *,
    issuer: Party,
    receiver: Party,
    place_of_issue: str,
    iva_rate: Decimal | None,
    retained_iva_rate: Decimal = ZERO,
    retained_isr_rate: Decimal = ZERO,
) -> str:
    """What the parties and the place of issue forbid on a line, for descriptions that come with
    their rates already set (the CFDI builder, imports); '' when nothing. Lines made by
    ``retention_rates`` never hit these."""
    withholds = to_decimal(retained_iva_rate or ZERO) > 0 or to_decimal(retained_isr_rate or ZERO) > 0
    if withholds and receiver.generic:
        return f"Con el RFC genérico {receiver.rfc} no se retienen impuestos: el receptor no es retenedor."
    if to_decimal(retained_isr_rate or ZERO) > 0 and issuer.person_type == MORAL:
        return (
            "A una persona moral no se le retiene ISR: solo a personas físicas (LISR art. 106, 113-J y 116)."
        )
    if (
        iva_rate is not None
        and to_decimal(iva_rate) == FRONTIER_IVA_RATE
        and not frontier_stimulus(place_of_issue)
    ):
        return (
            f"El lugar de expedición {place_of_issue} no está en la región fronteriza con estímulo del SAT: "
            "el IVA al 8% no está permitido."
        )
    return ""
