"""What building an invoice reads from a stamped CFDI: header, concepts and taxes.

Works on CFDI 4.0 and 3.3 (``Cantidad``, ``TasaOCuota="0.160000"``, ``Impuesto="002"``) and on
3.2's lower-case names that the seed quotes (``cantidad``, ``tasa="16.00"``, ``impuesto="IVA"``).
Taxes come out as (tax, percent, amount) with SAT's c_Impuesto codes and the rate in percent,
as ``erp.taxes`` keeps them, so the concordance compares like with like. The file has already
been parsed safely once when it was loaded; it is parsed here with the same parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lxml import etree

from erp.errors import DomainError
from erp.taxes import IEPS, ISR, IVA

from ..external_cfdi import _PARSER

TAX_CODES = {"IVA": IVA, "IEPS": IEPS, "ISR": ISR, IVA: IVA, IEPS: IEPS, ISR: ISR}
TAX_NAMES = {IVA: "IVA", IEPS: "IEPS", ISR: "ISR"}
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class XmlTax:
    tax: str  # c_Impuesto: 001 ISR, 002 IVA, 003 IEPS
    rate: Decimal | None  # percent (16, 26.5); None when the XML gives none (3.3/4.0 summary retentions)
    amount: Decimal
    amount_text: str  # as written in the XML, for the messages ("21.60")


@dataclass(frozen=True)
class XmlConcept:
    position: int
    quantity: Decimal
    unit_price: Decimal
    importe: Decimal
    description: str
    sku: str  # NoIdentificacion
    unit: str
    discount: Decimal
    transferred: tuple[XmlTax, ...] = ()
    withheld: tuple[XmlTax, ...] = ()


@dataclass(frozen=True)
class XmlInvoiceData:
    version: str
    doc_type: str  # I, E, T, N, P (3.2: ingreso, egreso, traslado)
    date: str  # AAAA-MM-DD
    issuer_rfc: str
    receiver_rfc: str
    currency: str
    exchange_rate: Decimal | None
    discount: Decimal
    total: Decimal
    total_text: str
    concepts: tuple[XmlConcept, ...]
    transferred: tuple[XmlTax, ...] = field(default=())  # the document's summary rows
    withheld: tuple[XmlTax, ...] = field(default=())


DOC_TYPES_32 = {"ingreso": "I", "egreso": "E", "traslado": "T"}


def _get(node, name: str, default: str = "") -> str:
    """An attribute by its 3.3/4.0 name (``ValorUnitario``) or its 3.2 one (``valorUnitario``)."""
    value = node.get(name)
    if value is None:
        value = node.get(name[0].lower() + name[1:])
    return default if value is None else value.strip()


def _decimal(node, name: str, *, required: bool = True, label: str = "") -> Decimal | None:
    text = _get(node, name)
    if not text:
        if required:
            raise _invalid(f"falta el atributo {label or name}")
        return None
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise _invalid(f"el atributo {label or name} no es un número ({text})") from exc


def _invalid(detail: str) -> DomainError:
    return DomainError("cfdi_invalido", f"El archivo no es un CFDI válido: {detail}.")


def _tax(node, *, percent_attribute: bool) -> XmlTax | None:
    """One Traslado or Retencion; None for an exempt traslado (no amount)."""
    if _get(node, "TipoFactor") == "Exento":
        return None
    code = TAX_CODES.get(_get(node, "Impuesto").upper())
    if code is None:
        raise _invalid(f"impuesto desconocido «{_get(node, 'Impuesto')}»")
    text = _get(node, "Importe")
    amount = _decimal(node, "Importe", label="Importe del impuesto")
    if percent_attribute:  # 3.2: tasa="16.00" (percent); retentions have no rate
        rate = _decimal(node, "Tasa", required=False)
    else:
        fraction = _decimal(node, "TasaOCuota", required=False)
        rate = None if fraction is None else (fraction * HUNDRED).normalize()
    return XmlTax(code, rate, amount, text)


def _taxes(parent, namespace: str, *, percent_attribute: bool) -> tuple[tuple, tuple]:
    if parent is None:
        return (), ()
    found = []
    for group, item in (("Traslados", "Traslado"), ("Retenciones", "Retencion")):
        rows = parent.findall(f"{{{namespace}}}{group}/{{{namespace}}}{item}")
        found.append(tuple(t for t in (_tax(r, percent_attribute=percent_attribute) for r in rows) if t))
    return found[0], found[1]


def read_invoice_xml(xml: bytes) -> XmlInvoiceData:
    try:
        root = etree.fromstring(xml, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise _invalid("no es XML bien formado") from exc
    namespace = etree.QName(root).namespace or ""
    version = _get(root, "Version")
    is_32 = version.startswith("3.2") or version.startswith("2.")
    doc_type = _get(root, "TipoDeComprobante")
    doc_type = DOC_TYPES_32.get(doc_type.lower(), doc_type)
    issuer = root.find(f"{{{namespace}}}Emisor")
    receiver = root.find(f"{{{namespace}}}Receptor")
    if issuer is None or receiver is None:
        raise _invalid("le falta el Emisor o el Receptor")
    concepts = []
    for position, node in enumerate(root.findall(f"{{{namespace}}}Conceptos/{{{namespace}}}Concepto"), 1):
        transferred, withheld = _taxes(
            node.find(f"{{{namespace}}}Impuestos"), namespace, percent_attribute=is_32
        )
        concepts.append(
            XmlConcept(
                position=position,
                quantity=_decimal(node, "Cantidad"),
                unit_price=_decimal(node, "ValorUnitario"),
                importe=_decimal(node, "Importe"),
                description=_get(node, "Descripcion")[:1000],
                sku=_get(node, "NoIdentificacion")[:100],
                unit=_get(node, "Unidad")[:20],
                discount=_decimal(node, "Descuento", required=False) or Decimal(0),
                transferred=transferred,
                withheld=withheld,
            )
        )
    if not concepts:
        raise _invalid("no tiene conceptos")
    transferred, withheld = _taxes(root.find(f"{{{namespace}}}Impuestos"), namespace, percent_attribute=is_32)
    rate = _decimal(root, "TipoCambio", required=False)
    if rate is None:  # the seed's older spelling
        rate = _decimal(root, "TipoDeCambio", required=False)
    return XmlInvoiceData(
        version=version,
        doc_type=doc_type,
        date=_get(root, "Fecha")[:10],
        issuer_rfc=_get(issuer, "Rfc").upper(),
        receiver_rfc=_get(receiver, "Rfc").upper(),
        currency=_get(root, "Moneda").upper(),
        exchange_rate=rate,
        discount=_decimal(root, "Descuento", required=False) or Decimal(0),
        total=_decimal(root, "Total"),
        total_text=_get(root, "Total"),
        concepts=tuple(concepts),
        transferred=transferred,
        withheld=withheld,
    )
