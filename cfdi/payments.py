"""The payment complement (CFDI type P, Pagos 2.0): its amounts and its satcfdi build.

SAT's "Guía de llenado del complemento para recepción de pagos 2.0" rules, as formulas:

- ImpSaldoInsoluto = ImpSaldoAnt − ImpPagado (MonedaDR, 2 decimals).
- Taxes of a DoctoRelacionado, in proportion to what is paid, per tax line of the invoice
  (base B, amount I, invoice total T): with P₀ the part paid before and P₁ = P₀ + ImpPagado,
  ImporteDR = round(I·P₁/T) − round(I·P₀/T) and BaseDR likewise. Rounding half up to the
  currency's decimals, never truncating. Because each installment takes the difference of
  cumulative rounded amounts, the installments of an invoice add up to its I and B exactly.
- ImpuestosP: Σ ImporteDR / EquivalenciaDR per tax key, rounded to MonedaP's decimals.
- Monto: what was received (MonedaP), at least Σ ImpPagado / EquivalenciaDR.
- Totales (MXN, 2 decimals): Σ ImporteP·TipoCambioP, Σ BaseP·TipoCambioP by IVA rate, and
  MontoTotalPagos = Σ Monto·TipoCambioP, each rounded once after converting. With one payment
  in MXN (TipoCambioP 1) the Totales are the sum of the documents' rounded amounts exactly.

satcfdi's ``pago20.Pagos`` builds the nodes; the amounts it would compute without rounding
(Monto, ImpuestosP, Totales) are replaced by these.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from satcfdi.create.cfd import cfdi40, pago20

from erp.errors import DomainError
from erp.sat_catalogs import currency_decimals

from .description import DocumentTax, PaidDocument, PaymentComplement, PaymentReceived

TOTAL_IVA = {
    Decimal("0.160000"): "IVA16",
    Decimal("0.080000"): "IVA8",
    Decimal("0.000000"): "IVA0",
}
WITHHELD_TOTALS = {"001": "TotalRetencionesISR", "002": "TotalRetencionesIVA", "003": "TotalRetencionesIEPS"}
USO_PAGOS = "CP01"
# c_FormaPago without 99 (Por definir), which a payment never has (CRP20212).
PAYMENT_FORMS = frozenset(
    [
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
        "08",
        "12",
        "13",
        "14",
        "15",
        "17",
        "23",
        "24",
        "25",
        "26",
        "27",
        "28",
        "29",
        "30",
        "31",
    ]
)


def places(currency: str) -> int:
    value = currency_decimals(currency)
    return 2 if value is None else value


def rounded(value: Decimal, decimals: int) -> Decimal:
    return Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def plain(value) -> Decimal:
    """A rate without trailing zeros (17.250000 → 17.25; 17 stays 17), as SAT's guide writes it."""
    return Decimal(format(Decimal(value).normalize(), "f"))


@dataclass(frozen=True)
class PaidTax:
    """The part of one of the invoice's taxes that a payment covers (in MonedaDR)."""

    tax: str
    factor: str
    rate: Decimal | None
    base: Decimal
    amount: Decimal | None
    withheld: bool

    @property
    def key(self) -> tuple:
        return (self.withheld, self.tax, self.factor, self.rate)


def paid_taxes(document: PaidDocument) -> list[PaidTax]:
    """The proportional taxes of one DoctoRelacionado (see the module's formulas)."""
    if document.total <= 0:
        return []
    decimals = places(document.currency)
    before = document.total - document.previous_balance
    after = before + document.amount_paid

    def part(value: Decimal) -> Decimal:
        return rounded(value * after / document.total, decimals) - rounded(
            value * before / document.total, decimals
        )

    result = []
    for tax in document.taxes:
        amount = part(tax.amount) if tax.amount is not None else None
        result.append(PaidTax(tax.tax, tax.factor, tax.rate, part(tax.base), amount, tax.withheld))
    return result


def payment_taxes(payment: PaymentReceived) -> dict[tuple, tuple[Decimal, Decimal | None]]:
    """ImpuestosP: per tax key, (BaseP, ImporteP) in MonedaP, rounded to its decimals."""
    decimals = places(payment.currency)
    sums: dict[tuple, list] = defaultdict(lambda: [Decimal(0), None])
    for document in payment.documents:
        equivalence = document.equivalence or Decimal(1)
        for tax in paid_taxes(document):
            entry = sums[tax.key]
            entry[0] += tax.base / equivalence
            if tax.amount is not None:
                entry[1] = (entry[1] or Decimal(0)) + tax.amount / equivalence
    return {
        key: (rounded(base, decimals), None if amount is None else rounded(amount, decimals))
        for key, (base, amount) in sums.items()
    }


def _rate(payment: PaymentReceived) -> Decimal:
    return Decimal(1) if payment.currency == "MXN" else Decimal(payment.exchange_rate)


def totals(payments) -> dict[str, Decimal]:
    """The Totales node: each sum converted to MXN and rounded once."""
    raw: dict[str, Decimal] = defaultdict(Decimal)
    for payment in payments:
        rate = _rate(payment)
        raw["MontoTotalPagos"] += Decimal(payment.amount) * rate
        for (withheld, tax, factor, tasa), (base, amount) in payment_taxes(payment).items():
            if withheld:
                if tax in WITHHELD_TOTALS:
                    raw[WITHHELD_TOTALS[tax]] += amount * rate
            elif tax == "002" and factor == "Exento":
                raw["TotalTrasladosBaseIVAExento"] += base * rate
            elif tax == "002" and factor == "Tasa" and tasa is not None and Decimal(tasa) in TOTAL_IVA:
                name = TOTAL_IVA[Decimal(tasa)]
                raw[f"TotalTrasladosBase{name}"] += base * rate
                raw[f"TotalTrasladosImpuesto{name}"] += amount * rate
    return {name: rounded(value, 2) for name, value in raw.items()}


def _refuse(message: str):
    raise DomainError("pago_invalido", message)


def validate_payment(payment: PaymentReceived) -> None:
    """What SAT's validation (CRP rules) would refuse, in Spanish, before anything is built."""
    if not payment.documents:
        _refuse("El pago debe relacionar al menos un documento (factura PPD).")
    if payment.payment_form == "99":
        _refuse("La forma de pago de un pago no puede ser 99 (Por definir) (CRP20212).")
    if payment.currency != "MXN" and not payment.exchange_rate:
        _refuse(f"Indique el tipo de cambio del pago en {payment.currency} (CRP20214).")
    decimals = places(payment.currency)
    if rounded(payment.amount, decimals) != payment.amount or payment.amount <= 0:
        _refuse(f"El monto del pago debe ser mayor que cero con {decimals} decimales (CRP20218, CRP20219).")
    applied = Decimal(0)
    for document in payment.documents:
        if document.currency == payment.currency and document.equivalence != 1:
            _refuse("Con la misma moneda del pago y del documento, la equivalencia debe ser 1 (CRP20238).")
        if document.amount_paid <= 0 or document.amount_paid > document.previous_balance:
            _refuse(
                f"El importe pagado del documento {document.series}{document.folio} debe ser mayor que "
                f"cero y no exceder su saldo anterior {document.previous_balance} (CRP20241, CRP20244)."
            )
        if not 1 <= document.installment <= 999:
            _refuse("El número de parcialidad debe estar entre 1 y 999.")
        applied += document.amount_paid / (document.equivalence or Decimal(1))
    if payment.amount < rounded(applied, decimals) - Decimal(1).scaleb(-decimals):
        _refuse(
            f"El monto del pago {payment.amount} es menor que la suma de los importes pagados "
            f"expresados en {payment.currency} ({rounded(applied, decimals)}) (CRP20217)."
        )


def _tax_nodes(document: PaidDocument):
    transferred, withheld = [], []
    for tax in paid_taxes(document):
        if tax.withheld:
            withheld.append(pago20.RetencionDR(tax.base, tax.tax, tax.factor, tax.rate, tax.amount))
        else:
            transferred.append(pago20.TrasladoDR(tax.base, tax.tax, tax.factor, tax.rate, tax.amount))
    if not transferred and not withheld:
        return None
    return pago20.ImpuestosDR(retenciones_dr=withheld or None, traslados_dr=transferred or None)


def _docto(document: PaidDocument, payment: PaymentReceived):
    decimals = places(document.currency)
    return pago20.DoctoRelacionado(
        id_documento=document.uuid,
        moneda_dr=document.currency,
        num_parcialidad=document.installment,
        imp_saldo_ant=rounded(document.previous_balance, decimals),
        imp_pagado=rounded(document.amount_paid, decimals),
        objeto_imp_dr="02" if document.taxes else "01",
        serie=document.series or None,
        folio=document.folio or None,
        equivalencia_dr=plain(document.equivalence),
        impuestos_dr=_tax_nodes(document),
    )


def _impuestos_p(payment: PaymentReceived):
    transferred, withheld = [], []
    for (is_withheld, tax, factor, rate), (base, amount) in payment_taxes(payment).items():
        if is_withheld:
            withheld.append({"ImpuestoP": tax, "ImporteP": amount})
        else:
            transferred.append(
                {
                    "BaseP": base,
                    "ImpuestoP": tax,
                    "TipoFactorP": factor,
                    "TasaOCuotaP": rate,
                    "ImporteP": amount,
                }
            )
    impuestos = {}
    if withheld:
        impuestos["RetencionesP"] = withheld
    if transferred:
        impuestos["TrasladosP"] = transferred
    return impuestos or None


def build_pagos(payments: tuple[PaymentReceived, ...], local_time) -> pago20.Pagos:
    """satcfdi's Pagos 2.0 node with SAT's rounding (``local_time`` turns an aware moment into
    the naive local time of the place of issue)."""
    nodes = []
    for payment in payments:
        validate_payment(payment)
        nodes.append(
            pago20.Pago(
                fecha_pago=local_time(payment.paid_at),
                forma_de_pago_p=payment.payment_form,
                moneda_p=payment.currency,
                docto_relacionado=[_docto(d, payment) for d in payment.documents],
                tipo_cambio_p=plain(_rate(payment)),
                num_operacion=payment.operation_number or None,
                rfc_emisor_cta_ord=payment.payer_bank_rfc or None,
                nom_banco_ord_ext=payment.payer_bank_name or None,
                cta_ordenante=payment.payer_account or None,
                rfc_emisor_cta_ben=payment.beneficiary_bank_rfc or None,
                cta_beneficiario=payment.beneficiary_account or None,
            )
        )
    pagos = pago20.Pagos(pago=nodes)
    for node, payment in zip(pagos["Pago"], payments, strict=True):
        node["Monto"] = rounded(payment.amount, places(payment.currency))
        node["ImpuestosP"] = _impuestos_p(payment)
    pagos["Totales"] = totals(payments)
    return pagos


def build_payment_comprobante(document: PaymentComplement, local_time):
    """The unsealed Comprobante of type P (satcfdi's ``Comprobante.pago``)."""
    if not document.payments:
        raise DomainError("pago_invalido", "El complemento de pago debe registrar al menos un pago.")
    return cfdi40.Comprobante.pago(
        emisor=cfdi40.Emisor(
            rfc=document.issuer.rfc,
            nombre=document.issuer.name,
            regimen_fiscal=document.issuer.regimen_fiscal,
        ),
        lugar_expedicion=document.lugar_expedicion,
        receptor=cfdi40.Receptor(
            rfc=document.receiver.rfc,
            nombre=document.receiver.name,
            domicilio_fiscal_receptor=document.receiver.postal_code,
            regimen_fiscal_receptor=document.receiver.regimen_fiscal,
            uso_cfdi=USO_PAGOS,
        ),
        complemento_pago=build_pagos(document.payments, local_time),
        cfdi_relacionados=[
            cfdi40.CfdiRelacionados(tipo_relacion=r.relation_type, cfdi_relacionado=list(r.uuids))
            for r in document.related
        ]
        or None,
        serie=document.series or None,
        folio=document.folio or None,
        fecha=local_time(document.issued_at),
    )


__all__ = ["DocumentTax", "paid_taxes", "payment_taxes", "totals", "build_payment_comprobante"]
