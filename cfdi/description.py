"""The plain description of a fiscal document that callers hand to the CFDI engine.

``cfdi`` knows nothing of sales: an invoice, a credit note or anything else becomes a
``FiscalDocument`` with an ``Issuer``, a ``Receiver`` and ``Concept`` lines. Amounts are not part
of the description; they are computed by ``erp.taxes`` from quantities, prices and rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from erp.money import ZERO
from erp.rfc import RFC_PUBLICO_GENERAL
from erp.taxes import LineInput

PUBLICO_EN_GENERAL = "PUBLICO EN GENERAL"


@dataclass(frozen=True)
class Issuer:
    rfc: str
    name: str
    regimen_fiscal: str
    postal_code: str  # LugarExpedicion unless the document names another place of issue


@dataclass(frozen=True)
class Receiver:
    rfc: str
    name: str
    postal_code: str  # DomicilioFiscalReceptor
    regimen_fiscal: str
    uso_cfdi: str
    email: str = ""  # where the XML and PDF are sent (one or more, comma separated); not in the CFDI

    @classmethod
    def counter(cls, issuer_postal_code: str) -> Receiver:
        """The counter customer: PUBLICO EN GENERAL, generic RFC, régimen 616, uso S01,
        and the issuer's postal code as its fiscal address (SAT rule 40149)."""
        return cls(RFC_PUBLICO_GENERAL, PUBLICO_EN_GENERAL, issuer_postal_code, "616", "S01")


@dataclass(frozen=True)
class Concept:
    product_key: str  # ClaveProdServ
    unit_key: str  # ClaveUnidad
    description: str
    quantity: Decimal
    unit_price: Decimal  # ValorUnitario, up to 6 decimals
    discount: Decimal = ZERO  # amount
    sku: str = ""  # NoIdentificacion
    unit: str = ""  # Unidad (the issuer's own)
    iva_rate: Decimal | None = Decimal("16")  # percent; None: no IVA
    iva_exempt: bool = False
    ieps_rate: Decimal = ZERO  # percent
    retained_iva_rate: Decimal = ZERO  # percent
    retained_isr_rate: Decimal = ZERO  # percent
    ieps_quota: Decimal = ZERO  # pesos per unit (IEPS TipoFactor Cuota)

    def line_input(self) -> LineInput:
        return LineInput(
            quantity=self.quantity,
            unit_price=self.unit_price,
            discount=self.discount,
            iva_rate=self.iva_rate,
            iva_exempt=self.iva_exempt,
            ieps_rate=self.ieps_rate,
            retained_iva_rate=self.retained_iva_rate,
            retained_isr_rate=self.retained_isr_rate,
            ieps_quota=self.ieps_quota,
        )


@dataclass(frozen=True)
class GlobalInfo:
    """InformacionGlobal: the period a PUBLICO EN GENERAL invoice covers."""

    periodicity: str = "01"  # c_Periodicidad: 01 diario, 02 semanal, 03 quincenal, 04 mensual, 05 bimestral
    months: str = ""  # c_Meses; empty: the month of Fecha
    year: int | None = None  # empty: the year of Fecha


@dataclass(frozen=True)
class Related:
    relation_type: str  # c_TipoRelacion, e.g. 01 nota de crédito, 04 sustitución
    uuids: tuple[str, ...]


@dataclass(frozen=True)
class FiscalDocument:
    issuer: Issuer
    receiver: Receiver
    concepts: tuple[Concept, ...]
    doc_type: str = "I"  # I ingreso, E egreso
    series: str = ""
    folio: str = ""
    issued_at: datetime | None = None  # aware; written in the local time of the place of issue
    credit: bool = False  # crédito: MetodoPago PPD with FormaPago 99; contado: PUE
    payment_form: str = "01"  # c_FormaPago for contado (ignored on crédito: 99)
    payment_terms: str = ""  # CondicionesDePago
    currency: str = "MXN"
    exchange_rate: Decimal | None = None  # pesos per unit, required for a foreign currency
    export: str = "01"
    place_of_issue: str = ""  # defaults to the issuer's postal code
    related: tuple[Related, ...] = field(default=())
    # SAT requires InformacionGlobal when the receiver is XAXX010101000 "PUBLICO EN GENERAL";
    # left empty, a counter sale gets a daily period (01) of the month and year of Fecha.
    global_info: GlobalInfo | None = None

    @property
    def is_public(self) -> bool:
        return self.receiver.rfc == RFC_PUBLICO_GENERAL and self.receiver.name == PUBLICO_EN_GENERAL

    @property
    def lugar_expedicion(self) -> str:
        return self.place_of_issue or self.issuer.postal_code

    @property
    def metodo_pago(self) -> str:
        return "PPD" if self.credit else "PUE"

    @property
    def forma_pago(self) -> str:
        return "99" if self.credit else self.payment_form


# -- Payment complement (CFDI type P, Pagos 2.0) -----------------------------------------------


@dataclass(frozen=True)
class DocumentTax:
    """One tax of a related invoice as the invoice states it (whole document, not the paid part):
    its Traslado or Retención summary line. ``rate`` is the TasaOCuota (0.160000), None when
    exempt."""

    tax: str  # c_Impuesto: 001 ISR, 002 IVA, 003 IEPS
    base: Decimal
    amount: Decimal | None
    factor: str = "Tasa"  # c_TipoFactor: Tasa, Cuota, Exento
    rate: Decimal | None = None
    withheld: bool = False


@dataclass(frozen=True)
class PaidDocument:
    """A DoctoRelacionado: the invoice a payment settles, in the invoice's currency.

    ``equivalence`` is EquivalenciaDR: units of the invoice's currency per unit of the payment's
    (1 when both are the same; the exchange rate when a USD payment settles an MXN invoice).
    ``total`` and ``taxes`` are the invoice's own, so the engine can compute the paid part of
    each tax (ImporteDR, BaseDR) in proportion, rounded so that all installments add up to the
    invoice's taxes exactly."""

    uuid: str
    currency: str
    installment: int  # NumParcialidad, counted per invoice
    previous_balance: Decimal  # ImpSaldoAnt
    amount_paid: Decimal  # ImpPagado
    total: Decimal  # the invoice's Total
    taxes: tuple[DocumentTax, ...] = ()
    series: str = ""
    folio: str = ""
    equivalence: Decimal = Decimal(1)

    @property
    def remaining_balance(self) -> Decimal:  # ImpSaldoInsoluto
        return self.previous_balance - self.amount_paid


@dataclass(frozen=True)
class PaymentReceived:
    """A Pago: money received on ``paid_at`` and the invoices it settles."""

    paid_at: datetime  # aware
    payment_form: str  # c_FormaPago (FormaDePagoP), never 99
    currency: str  # MonedaP
    amount: Decimal  # Monto, in MonedaP
    documents: tuple[PaidDocument, ...]
    exchange_rate: Decimal | None = None  # TipoCambioP: pesos per unit of MonedaP (1 for MXN)
    operation_number: str = ""  # NumOperacion
    payer_bank_rfc: str = ""  # RfcEmisorCtaOrd
    payer_bank_name: str = ""  # NomBancoOrdExt (foreign banks)
    payer_account: str = ""  # CtaOrdenante
    beneficiary_bank_rfc: str = ""  # RfcEmisorCtaBen
    beneficiary_account: str = ""  # CtaBeneficiario


@dataclass(frozen=True)
class PaymentComplement:
    """A CFDI of type P: the receiver (uso CP01 is set by the engine), the payments it records,
    and an optional relation 04 to the complement it substitutes."""

    issuer: Issuer
    receiver: Receiver
    payments: tuple[PaymentReceived, ...]
    series: str = ""
    folio: str = ""
    issued_at: datetime | None = None
    place_of_issue: str = ""
    related: tuple[Related, ...] = field(default=())
    doc_type: str = "P"
    currency: str = "XXX"
    exchange_rate: Decimal | None = None

    @property
    def lugar_expedicion(self) -> str:
        return self.place_of_issue or self.issuer.postal_code
