"""La concordancia (the seed's "Determinando la concordancia..."): every concept's importe and
taxes and the document's totals, XML against the invoice computed from the catalog.

The invoice side is computed exactly as "Agregar Factura" computes a typed invoice: the product's
taxes (``documents.line_taxes``: the product's treatment and the parties' retentions, no discount, the
entity's IVA) through ``erp.taxes.compute_document``; a line without a product code counts its
importe and no tax. Taxes are compared as ``tasa:importe`` grouped by (tax, rate), the way SAT's
summary rows are, so one XML Traslado holding the IVA of several concepts at the same rate matches
the lines that add up to it.

Messages marked ERROR must be fixed before the invoice can be accepted; PRECAUCION and the
statistics are for the user to judge. Their texts are the seed's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from erp.money import ZERO, quantize
from erp.taxes import IEPS, ISR, IVA, DocumentTotals, LineInput, compute_document

from ..documents import line_taxes
from .xml import TAX_NAMES, XmlInvoiceData, XmlTax

ERROR = "ERROR"
WARNING = "PRECAUCION"
INFO = "INFO"

EMPTY_CODE = "Partida {position}: La clave esta vacía, debes establecer una clave del catálogo"
TOTAL_MISMATCH = (
    "El total en el o los CFDIs no corresponden al Total calculado en el registro a partir de estos "
    "CFDIs. No se puede agregar. DOC: {doc} XML: {xml}"
)
KINDS = (  # (transferred?, tax, label in the statistics)
    (True, IVA, "IVA"),
    (True, IEPS, "IEPS"),
    (False, IVA, "IVA retenido"),
    (False, ISR, "ISR retenido"),
)


@dataclass(frozen=True)
class Message:
    level: str
    text: str

    def __str__(self) -> str:
        return self.text if self.level == INFO else f"{self.level}: {self.text}"


@dataclass(frozen=True)
class Concordance:
    totals: DocumentTotals
    messages: tuple[Message, ...]

    @property
    def errors(self) -> int:
        return sum(1 for m in self.messages if m.level == ERROR)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def as_text(self) -> list[str]:
        return [str(m) for m in self.messages]


def _percent(rate_fraction: Decimal | None) -> Decimal | None:
    return None if rate_fraction is None else (rate_fraction * 100).normalize()


def _rate_text(percent: Decimal | None) -> str:
    """16 -> "16.0", 10.6667 -> "10.6667", as the seed writes a rate."""
    if percent is None:
        return "0.0"
    percent = percent.normalize()
    return f"{percent:.1f}" if percent == percent.to_integral_value() else f"{percent:f}"


def _short(amount: Decimal) -> str:
    """0 -> "0.0", 21.60 -> "21.6" (the seed's document-side totals)."""
    value = amount.normalize()
    return f"{value:.1f}" if value == value.to_integral_value() else f"{value:f}"


def _trim(amount: Decimal) -> str:
    """135.00 -> "135", 156.60 -> "156.6" (the seed's DOC total)."""
    value = amount.normalize()
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value:f}"


def line_tax_fields(*, entity, customer, product) -> dict:
    """The tax fields (``LineInput`` keywords) a typed line of ``product`` gets with a blank IVA
    rate: the documents' own rule (``documents.line_taxes``), so the concordance and the posted
    invoice cannot differ (``accept_xml_invoice`` also checks the totals agree)."""
    return line_taxes(entity=entity, customer=customer, product=product)


def line_inputs(*, entity, customer, data: XmlInvoiceData, products: dict) -> list[LineInput]:
    """One ``LineInput`` per concept, as "Agregar Factura" computes a typed line with the XML's
    quantity and price and no discount (``products``: position → Product, or None: no taxes)."""
    inputs = []
    for concept in data.concepts:
        product = products.get(concept.position)
        taxes = {} if product is None else line_tax_fields(entity=entity, customer=customer, product=product)
        inputs.append(LineInput(quantity=concept.quantity, unit_price=concept.unit_price, **taxes))
    return inputs


def _doc_rows(totals: DocumentTotals, transferred: bool, tax: str) -> list[tuple[Decimal | None, Decimal]]:
    """The document's summary rows of one tax: (percent, amount), exempt rows left out."""
    if transferred:
        return [
            (_percent(t.rate), t.amount) for t in totals.transferred if t.tax == tax and t.amount is not None
        ]
    # Retentions are summarized per tax; their rate is the lines' when they share one.
    rates = {t.rate for line in totals.lines for t in line.withheld if t.tax == tax}
    rate = _percent(rates.pop()) if len(rates) == 1 else None
    return [(rate, t.amount) for t in totals.withheld if t.tax == tax]


def _xml_rows(data: XmlInvoiceData, transferred: bool, tax: str) -> list[XmlTax]:
    rows = data.transferred if transferred else data.withheld
    if not rows:  # no summary: the concepts' own taxes, grouped by rate
        grouped: dict = {}
        for concept in data.concepts:
            for t in concept.transferred if transferred else concept.withheld:
                if t.tax == tax:
                    grouped[t.rate] = grouped.get(t.rate, ZERO) + t.amount
        return [XmlTax(tax, rate, amount, f"{amount:.2f}") for rate, amount in grouped.items()]
    if transferred:
        return [t for t in rows if t.tax == tax]
    rates = {t.rate for c in data.concepts for t in c.withheld if t.tax == tax and t.rate is not None}
    concept_rate = rates.pop() if len(rates) == 1 else None
    return [XmlTax(t.tax, t.rate if t.rate is not None else concept_rate, t.amount, t.amount_text)
            for t in rows if t.tax == tax]  # fmt: skip


def _same_rate(a: Decimal | None, b: Decimal | None, transferred: bool) -> bool:
    return (not transferred and (a is None or b is None)) or a == b


def _compare_kind(messages, totals, data, transferred: bool, tax: str, label: str, decimals: int) -> None:
    name = TAX_NAMES[tax]
    noun = "Traslado" if transferred else "Retención"
    doc_rows = _doc_rows(totals, transferred, tax)
    xml_rows = _xml_rows(data, transferred, tax)
    unmatched = list(doc_rows)
    for index, row in enumerate(xml_rows, start=1):
        pair = f"{_rate_text(row.rate)}:{row.amount_text}"
        same_rate = [d for d in unmatched if _same_rate(d[0], row.rate, transferred)]
        if not same_rate:
            reason = (
                f"Una clave en el catálogo no esta manejando el {name}, mientras que este XML si lo está haciendo"
                if not doc_rows
                else f"Ninguna partida del documento maneja el {name} a esta tasa"
            )
            messages.append(
                Message(
                    INFO, f"{noun} {index} {name} en XML: Sin concordancia en Documento ({pair}). {reason}"
                )
            )
            continue
        rate, amount = same_rate[0]
        unmatched.remove(same_rate[0])
        if quantize(row.amount, decimals) != amount:
            messages.append(
                Message(
                    INFO,
                    f"{noun} {index} {name} en XML: Importe distinto en Documento ({pair} contra "
                    f"{_rate_text(rate)}:{amount:.2f})",
                )
            )
    for rate, amount in unmatched:
        messages.append(
            Message(
                INFO,
                f"{noun} {name} en Documento: Sin concordancia en XML ({_rate_text(rate)}:{amount:.2f}). "
                f"Una clave en el catálogo está manejando el {name}, mientras que este XML no lo está haciendo",
            )
        )
    if len(doc_rows) != len(xml_rows):
        messages.append(
            Message(
                INFO,
                f"Importes de {label} en el documento: {len(doc_rows)} Importes de {label} en el XML: "
                f"{len(xml_rows)} Diferencia: {len(doc_rows) - len(xml_rows)}",
            )
        )
    doc_total = sum((amount for _, amount in doc_rows), ZERO)
    xml_total = sum((row.amount for row in xml_rows), ZERO)
    if quantize(xml_total, decimals) != doc_total:
        messages.append(
            Message(
                WARNING,
                f"Total de {label} en el documento: {_short(doc_total)} Total de {label} en el XML: "
                f"{xml_total:.2f} Diferencia: {doc_total - xml_total:.2f}",
            )
        )


def _concept_taxes(messages, line, concept, decimals: int) -> None:
    """PRECAUCION per concept whose own taxes (3.3 and 4.0 carry them) differ from the line's."""
    for transferred, tax, label in KINDS:
        doc = [t for t in (line.transferred if transferred else line.withheld) if t.tax == tax and t.amount]
        xml = [t for t in (concept.transferred if transferred else concept.withheld) if t.tax == tax]
        doc_pair = (_percent(doc[0].rate), doc[0].amount) if doc else (None, ZERO)
        xml_pair = (xml[0].rate, quantize(xml[0].amount, decimals)) if xml else (None, ZERO)
        if doc_pair != xml_pair:
            messages.append(
                Message(
                    WARNING,
                    f"Partida {concept.position}: {label} en el documento {_rate_text(doc_pair[0])}:"
                    f"{doc_pair[1]:.2f}, en el XML {_rate_text(xml_pair[0])}:{xml_pair[1]:.2f}",
                )
            )


def run_concordance(
    *, entity, customer, data: XmlInvoiceData, products: dict, decimals: int = 2
) -> Concordance:
    """Compare the XML with the invoice its product codes (``products``: position → Product or
    None) compute for ``customer``. Saves nothing."""
    inputs = line_inputs(entity=entity, customer=customer, data=data, products=products)
    totals = compute_document(inputs, decimals)
    messages: list[Message] = []
    concept_taxes = data.version[:3] not in ("3.2", "3.0", "2.0", "2.2")
    for concept, line in zip(data.concepts, totals.lines, strict=True):
        if products.get(concept.position) is None:
            messages.append(Message(ERROR, EMPTY_CODE.format(position=concept.position)))
        if quantize(concept.importe, decimals) != line.importe:
            messages.append(
                Message(
                    ERROR,
                    f"Partida {concept.position}: El importe calculado en el documento ({line.importe}) no "
                    f"corresponde al importe del concepto en el XML ({concept.importe})",
                )
            )
        if concept_taxes and products.get(concept.position) is not None:
            _concept_taxes(messages, line, concept, decimals)
    for transferred, tax, label in KINDS:
        _compare_kind(messages, totals, data, transferred, tax, label, decimals)
    if totals.total != quantize(data.total, decimals):
        messages.append(Message(ERROR, TOTAL_MISMATCH.format(doc=_trim(totals.total), xml=data.total_text)))
    return Concordance(totals=totals, messages=tuple(messages))
