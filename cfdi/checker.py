"""SAT's CFDI 4.0 validation rules that PACs reject most, run locally before any PAC sees a document.

``check(root)`` reads the Comprobante exactly as written (attribute strings, so that decimal
places count as SAT counts them) and returns findings, each with SAT's code (CFDI40xxx from the
"Matriz de errores" of Anexo 20, or the PAC code 401 for the 72-hour window) and a Spanish message.
An empty list means the document may go to a PAC. The sandbox PAC runs the same function.

Limits for line amounts (40167) and line taxes (40180, 40186) follow Anexo 20:
  lower = (A − 10^-dA / 2) × (B − 10^-dB / 2), truncated to the currency's decimals
  upper = (A + 10^-dA / 2 − 10^-12) × (B + 10^-dB / 2 − 10^-12), rounded up
where dA, dB are the decimals written in the factors (a rate counts as exact).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from erp import sat_catalogs
from erp.rfc import RFC_PUBLICO_GENERAL, is_generic_rfc, person_type

from .description import PUBLICO_EN_GENERAL
from .sat import CFDI_NS, PAGOS_NS, timezone_of

STAMP_WINDOW = timedelta(hours=72)
FUTURE_TOLERANCE = timedelta(minutes=5)
# Allowed variation of TipoCambio against the day's reference rate before a Confirmacion is needed.
EXCHANGE_RATE_VARIATION = Decimal("0.35")
# c_TasaOCuota: fixed rates per tax for Tasa, and the ranges allowed for withholdings.
_IEPS_RATES = frozenset(
    Decimal(r)
    for r in (
        "0",
        "0.03",
        "0.06",
        "0.07",
        "0.08",
        "0.09",
        "0.25",
        "0.265",
        "0.30",
        "0.304",
        "0.50",
        "0.53",
        "1.60",
    )
)
TRANSFER_RATES = {"002": frozenset(Decimal(r) for r in ("0", "0.08", "0.16")), "003": _IEPS_RATES}
WITHHOLDING_MAX = {"001": Decimal("0.35"), "002": Decimal("0.16")}
_TIPO_CAMBIO_RE = re.compile(r"^[0-9]{1,18}(\.[0-9]{1,6})?$")
_EPSILON = Decimal("1e-12")
_C = f"{{{CFDI_NS}}}"
_P = f"{{{PAGOS_NS}}}"


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    where: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _dec(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _places(value: str | None) -> int:
    if not value or "." not in value:
        return 0
    return len(value.split(".", 1)[1])


def _round(value: Decimal, places: int) -> Decimal:
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _half(places: int) -> Decimal:
    return Decimal(1).scaleb(-places) / 2


def _limits(a: str, b: str, places: int, *, b_exact: bool = False) -> tuple[Decimal, Decimal]:
    da, db = Decimal(a), Decimal(b)
    ha = _half(_places(a))
    hb = Decimal(0) if b_exact else _half(_places(b))
    eps_b = Decimal(0) if b_exact else _EPSILON
    q = Decimal(1).scaleb(-places)
    lower = ((da - ha) * (db - hb)).quantize(q, rounding=ROUND_DOWN)
    upper = ((da + ha - _EPSILON) * (db + hb - eps_b)).quantize(q, rounding=ROUND_CEILING)
    return lower, upper


class _Checker:
    def __init__(self, root, now: datetime | None, reference_rate: Decimal | None):
        self.root = root
        self.now = now
        self.reference_rate = reference_rate
        self.findings: list[Finding] = []
        self.currency = root.get("Moneda", "")
        places = sat_catalogs.currency_decimals(self.currency)
        self.places = 2 if places is None else places
        self.kind = root.get("TipoDeComprobante", "")

    def add(self, code: str, message: str, where: str = "") -> None:
        self.findings.append(Finding(code, message, where))

    def run(self) -> list[Finding]:
        self.payment()
        self.currency_and_rate()
        self.concepts()
        self.amounts()
        self.tax_summary()
        self.receiver()
        self.stamp_window()
        if self.kind == "P":
            self.payment_complement()
        return self.findings

    # -- Comprobante ------------------------------------------------------------------------
    def payment(self):
        if self.root.get("MetodoPago") == "PPD" and self.root.get("FormaPago") != "99":
            self.add(
                "CFDI40105",
                "Cuando el método de pago es PPD (crédito), la forma de pago debe ser 99 (Por definir).",
            )

    def currency_and_rate(self):
        rate = self.root.get("TipoCambio")
        if sat_catalogs.currency_decimals(self.currency) is None:
            self.add("CFDI40113", f"La moneda «{self.currency}» no existe en el catálogo c_Moneda.")
            return
        if self.currency == "MXN":
            if rate is not None and _dec(rate) != 1:
                self.add("CFDI40114", "Con moneda MXN el tipo de cambio se omite o debe ser 1.")
            return
        if self.currency == "XXX":
            if rate is not None:
                self.add("CFDI40116", "Con moneda XXX no se registra tipo de cambio.")
            return
        if rate is None:
            self.add("CFDI40115", f"Falta el tipo de cambio: es obligatorio con moneda {self.currency}.")
            return
        if not _TIPO_CAMBIO_RE.match(rate) or _dec(rate) <= 0:
            self.add("CFDI40117", "El tipo de cambio debe ser un número positivo con hasta 6 decimales.")
            return
        if self.reference_rate and not self.root.get("Confirmacion"):
            low = self.reference_rate * (1 - EXCHANGE_RATE_VARIATION)
            high = self.reference_rate * (1 + EXCHANGE_RATE_VARIATION)
            if not low <= Decimal(rate) <= high:
                self.add(
                    "CFDI40118",
                    f"El tipo de cambio {rate} está fuera del rango permitido respecto al del día "
                    f"({self.reference_rate}); se requiere clave de confirmación del PAC.",
                )

    def _check_places(self, code: str, label: str, value: str | None, where: str = ""):
        if value is not None and _places(value) > self.places:
            self.add(
                code,
                f"{label} tiene más decimales de los que admite la moneda {self.currency} ({self.places}).",
                where,
            )

    # -- Conceptos --------------------------------------------------------------------------
    def concepts(self):
        self.line_transferred = defaultdict(lambda: [Decimal(0), Decimal(0), False])
        self.line_withheld = defaultdict(Decimal)
        self.importe_sum = Decimal(0)
        self.discount_sum = Decimal(0)
        for n, concept in enumerate(self.root.iterfind(f"{_C}Conceptos/{_C}Concepto"), start=1):
            where = f"Concepto {n}"
            quantity, price, importe = (
                concept.get("Cantidad"),
                concept.get("ValorUnitario"),
                concept.get("Importe"),
            )
            if _dec(importe) is None or _dec(quantity) is None or _dec(price) is None:
                self.add(
                    "CFDI40167", "El concepto no tiene cantidad, valor unitario o importe numéricos.", where
                )
                continue
            self.importe_sum += Decimal(importe)
            if self.kind in ("I", "E") and Decimal(price) <= 0:
                self.add("CFDI40166", "El valor unitario debe ser mayor que cero.", where)
            lower, upper = _limits(quantity, price, self.places)
            if not lower <= Decimal(importe) <= upper:
                self.add(
                    "CFDI40167",
                    f"El importe {importe} no está entre los límites {lower} y {upper} de cantidad × valor unitario.",
                    where,
                )
            discount = concept.get("Descuento")
            if discount is not None:
                self.discount_sum += _dec(discount) or 0
                if self.kind not in ("I", "E", "N"):
                    self.add("CFDI40111", "Solo los comprobantes I, E o N pueden llevar descuento.", where)
                if (_dec(discount) or 0) > Decimal(importe):
                    self.add("CFDI40169", "El descuento del concepto es mayor que su importe.", where)
            taxes = concept.find(f"{_C}Impuestos")
            objeto = concept.get("ObjetoImp")
            if objeto == "02" and taxes is None:
                self.add(
                    "CFDI40171",
                    "ObjetoImp es 02 (sí objeto de impuesto) pero el concepto no tiene impuestos.",
                    where,
                )
            if objeto in ("01", "03", "04") and taxes is not None:
                self.add("CFDI40172", f"ObjetoImp es {objeto} pero el concepto desglosa impuestos.", where)
            if taxes is not None:
                self.concept_taxes(taxes, where)

    def concept_taxes(self, taxes, where):
        for t in taxes.iterfind(f"{_C}Traslados/{_C}Traslado"):
            base, factor, rate, amount = (
                t.get("Base"),
                t.get("TipoFactor"),
                t.get("TasaOCuota"),
                t.get("Importe"),
            )
            key = (t.get("Impuesto"), factor, _dec(rate))
            if (_dec(base) or 0) <= 0:
                self.add("CFDI40174", "La base del traslado debe ser mayor que cero.", where)
            row = self.line_transferred[key]
            row[0] += _dec(base) or 0
            if factor == "Exento":
                if rate is not None or amount is not None:
                    self.add("CFDI40177", "Un traslado exento no lleva tasa ni importe.", where)
                continue
            if rate is None or amount is None:
                self.add("CFDI40178", "Un traslado con tasa o cuota debe llevar TasaOCuota e Importe.", where)
                continue
            row[1] += _dec(amount) or 0
            row[2] = True
            allowed = TRANSFER_RATES.get(t.get("Impuesto"))
            if factor == "Tasa" and (allowed is None or _dec(rate) not in allowed):
                self.add(
                    "CFDI40179",
                    f"La tasa {rate} no está en el catálogo c_TasaOCuota para el impuesto {t.get('Impuesto')} trasladado.",
                    where,
                )
            lower, upper = _limits(base, rate, self.places, b_exact=True)
            if not lower <= Decimal(amount) <= upper:
                self.add(
                    "CFDI40180",
                    f"El importe del traslado {amount} no está entre los límites {lower} y {upper} de base × tasa.",
                    where,
                )
        for t in taxes.iterfind(f"{_C}Retenciones/{_C}Retencion"):
            base, rate, amount = t.get("Base"), t.get("TasaOCuota"), t.get("Importe")
            if (_dec(base) or 0) <= 0:
                self.add("CFDI40181", "La base de la retención debe ser mayor que cero.", where)
            self.line_withheld[t.get("Impuesto")] += _dec(amount) or 0
            if _dec(base) is None or _dec(rate) is None or _dec(amount) is None:
                continue
            tax = t.get("Impuesto")
            if t.get("TipoFactor") == "Tasa" and not (
                (tax in WITHHOLDING_MAX and 0 <= Decimal(rate) <= WITHHOLDING_MAX[tax])
                or (tax == "003" and Decimal(rate) in _IEPS_RATES)
            ):
                self.add(
                    "CFDI40185",
                    f"La tasa {rate} no está en el catálogo c_TasaOCuota para la retención del impuesto {tax}.",
                    where,
                )
            lower, upper = _limits(base, rate, self.places, b_exact=True)
            if not lower <= Decimal(amount) <= upper:
                self.add(
                    "CFDI40186",
                    f"El importe de la retención {amount} no está entre los límites {lower} y {upper} de base × tasa.",
                    where,
                )

    # -- Totales ----------------------------------------------------------------------------
    def amounts(self):
        subtotal, discount, total = (
            self.root.get("SubTotal"),
            self.root.get("Descuento"),
            self.root.get("Total"),
        )
        self._check_places("CFDI40107", "El SubTotal", subtotal)
        self._check_places("CFDI40112", "El Descuento", discount)
        if (
            self.kind in ("I", "E", "N")
            and _dec(subtotal) is not None
            and _dec(subtotal) != _round(self.importe_sum, self.places)
        ):
            self.add(
                "CFDI40108",
                f"El SubTotal {subtotal} no es igual a la suma redondeada de los importes de los conceptos "
                f"({_round(self.importe_sum, self.places)}).",
            )
        if discount is not None and _dec(subtotal) is not None and (_dec(discount) or 0) > _dec(subtotal):
            self.add("CFDI40110", f"El Descuento {discount} es mayor que el SubTotal {subtotal}.")
        taxes = self.root.find(f"{_C}Impuestos")
        transferred = _dec(taxes.get("TotalImpuestosTrasladados")) if taxes is not None else None
        withheld = _dec(taxes.get("TotalImpuestosRetenidos")) if taxes is not None else None
        expected = (_dec(subtotal) or 0) - (_dec(discount) or 0) + (transferred or 0) - (withheld or 0)
        if _dec(total) != _round(expected, self.places):
            self.add(
                "CFDI40119",
                f"El Total {total} no es SubTotal − Descuento + impuestos trasladados − impuestos retenidos "
                f"({_round(expected, self.places)}).",
            )

    def tax_summary(self):
        taxes = self.root.find(f"{_C}Impuestos")
        retenciones = [] if taxes is None else list(taxes.iterfind(f"{_C}Retenciones/{_C}Retencion"))
        traslados = [] if taxes is None else list(taxes.iterfind(f"{_C}Traslados/{_C}Traslado"))

        seen = set()
        summary_withheld = {}
        for r in retenciones:
            tax = r.get("Impuesto")
            self._check_places("CFDI40210", f"El importe de la retención {tax}", r.get("Importe"))
            if tax in seen:
                self.add(
                    "CFDI40208", f"La retención del impuesto {tax} aparece más de una vez en el resumen."
                )
            seen.add(tax)
            summary_withheld[tax] = _dec(r.get("Importe")) or Decimal(0)
        for tax in set(summary_withheld) | set(self.line_withheld):
            expected = _round(self.line_withheld.get(tax, Decimal(0)), self.places)
            if summary_withheld.get(tax) != expected:
                self.add(
                    "CFDI40211",
                    f"La retención {tax} del resumen ({summary_withheld.get(tax, 'ausente')}) no es la suma "
                    f"redondeada de las retenciones de los conceptos ({expected}).",
                )
        if taxes is not None and taxes.get("TotalImpuestosRetenidos") is not None:
            self._check_places("CFDI40202", "TotalImpuestosRetenidos", taxes.get("TotalImpuestosRetenidos"))
            if _dec(taxes.get("TotalImpuestosRetenidos")) != sum(summary_withheld.values(), Decimal(0)):
                self.add("CFDI40203", "TotalImpuestosRetenidos no es la suma de las retenciones del resumen.")

        seen = set()
        summary_transferred = {}
        for t in traslados:
            key = (t.get("Impuesto"), t.get("TipoFactor"), _dec(t.get("TasaOCuota")))
            label = f"{key[0]} {key[1]} {t.get('TasaOCuota') or ''}".strip()
            self._check_places("CFDI40214", f"La base del traslado {label}", t.get("Base"))
            self._check_places("CFDI40220", f"El importe del traslado {label}", t.get("Importe"))
            if key in seen:
                self.add("CFDI40218", f"El traslado {label} aparece más de una vez en el resumen.")
            seen.add(key)
            summary_transferred[key] = (_dec(t.get("Base")), _dec(t.get("Importe")), label)
        for key in set(summary_transferred) | set(self.line_transferred):
            base_sum, amount_sum, has_amount = self.line_transferred.get(key, (Decimal(0), Decimal(0), False))
            base, amount, label = summary_transferred.get(key, (None, None, f"{key[0]} {key[1]}"))
            if base != _round(base_sum, self.places):
                self.add(
                    "CFDI40215",
                    f"La base del traslado {label} del resumen ({base if base is not None else 'ausente'}) no es "
                    f"la suma redondeada de las bases de los conceptos ({_round(base_sum, self.places)}).",
                )
            if key[1] != "Exento" and amount != _round(amount_sum, self.places):
                self.add(
                    "CFDI40221",
                    f"El importe del traslado {label} del resumen ({amount if amount is not None else 'ausente'}) "
                    f"no es la suma redondeada de los importes de los conceptos ({_round(amount_sum, self.places)}).",
                )
        if taxes is not None and taxes.get("TotalImpuestosTrasladados") is not None:
            self._check_places(
                "CFDI40204", "TotalImpuestosTrasladados", taxes.get("TotalImpuestosTrasladados")
            )
            expected = sum((v[1] for v in summary_transferred.values() if v[1] is not None), Decimal(0))
            if _dec(taxes.get("TotalImpuestosTrasladados")) != expected:
                self.add("CFDI40205", "TotalImpuestosTrasladados no es la suma de los traslados del resumen.")

    # -- Receptor ---------------------------------------------------------------------------
    def receiver(self):
        receptor = self.root.find(f"{_C}Receptor")
        if receptor is None:
            return
        rfc = receptor.get("Rfc", "")
        regimen = receptor.get("RegimenFiscalReceptor", "")
        uso = receptor.get("UsoCFDI", "")
        persona = person_type(rfc)
        global_info = self.root.find(f"{_C}InformacionGlobal")
        public = rfc == RFC_PUBLICO_GENERAL and receptor.get("Nombre") == PUBLICO_EN_GENERAL
        if global_info is not None and not public:
            self.add(
                "CFDI40130",
                f"Con InformacionGlobal el receptor debe ser {RFC_PUBLICO_GENERAL} «{PUBLICO_EN_GENERAL}».",
            )
        if public and global_info is None:
            self.add(
                "CFDI40130",
                f"Un CFDI a {RFC_PUBLICO_GENERAL} «{PUBLICO_EN_GENERAL}» debe llevar InformacionGlobal "
                "(periodicidad, meses y año).",
            )
        if rfc == RFC_PUBLICO_GENERAL and receptor.get("Nombre") != PUBLICO_EN_GENERAL:
            self.add(
                "CFDI40146",
                f"Con el RFC genérico {rfc} el nombre del receptor debe ser «{PUBLICO_EN_GENERAL}».",
            )
        if is_generic_rfc(rfc) and receptor.get("DomicilioFiscalReceptor") != self.root.get(
            "LugarExpedicion"
        ):
            self.add(
                "CFDI40149",
                "Con RFC genérico, el domicilio fiscal del receptor debe ser el código postal del lugar de expedición.",
            )
        if sat_catalogs.regimen_fiscal_name(regimen) is None:
            self.add(
                "CFDI40157",
                f"El régimen fiscal del receptor «{regimen}» no existe en el catálogo c_RegimenFiscal.",
            )
        elif not sat_catalogs.regimen_applies_to(regimen, persona):
            self.add(
                "CFDI40158", f"El régimen fiscal {regimen} no aplica a una persona {persona} (RFC {rfc})."
            )
        elif rfc == RFC_PUBLICO_GENERAL and regimen != "616":
            self.add(
                "CFDI40159", "Con el RFC genérico XAXX010101000 el régimen fiscal del receptor debe ser 616."
            )
        if sat_catalogs.uso_cfdi_name(uso) is None:
            self.add("CFDI40160", f"El uso del CFDI «{uso}» no existe en el catálogo c_UsoCFDI.")
        elif not sat_catalogs.uso_cfdi_applies_to(uso, persona) or not sat_catalogs.uso_cfdi_admits_regimen(
            uso, regimen
        ):
            self.add(
                "CFDI40161",
                f"El uso del CFDI {uso} no corresponde a una persona {persona} con régimen fiscal {regimen}.",
            )
        elif rfc == RFC_PUBLICO_GENERAL and uso != "S01":
            self.add("CFDI40161", "Con el RFC genérico XAXX010101000 el uso del CFDI debe ser S01.")

    # -- Pagos 2.0 --------------------------------------------------------------------------
    def payment_complement(self):
        _PagosChecker(self).run()

    # -- Fecha ------------------------------------------------------------------------------
    def stamp_window(self):
        if self.now is None:
            return
        try:
            fecha = datetime.fromisoformat(self.root.get("Fecha", ""))
            tz = timezone_of(self.root.get("LugarExpedicion", ""))
        except (ValueError, KeyError, TypeError):
            self.add("CFDI40101", "La fecha del comprobante no tiene el formato AAAA-MM-DDThh:mm:ss.")
            return
        issued = tz.localize(fecha)
        if self.now - issued > STAMP_WINDOW:
            self.add(
                "401",
                "La fecha del comprobante tiene más de 72 horas: ya no se puede timbrar; vuelva a sellarlo.",
            )
        elif issued - self.now > FUTURE_TOLERANCE:
            self.add("401", "La fecha del comprobante es posterior a la fecha de timbrado.")


class _PagosChecker:
    """The Pagos 2.0 rules (Guía de llenado del complemento para recepción de pagos 2.0) that
    can be checked without SAT's records: the Comprobante's fixed values, the balances, the
    equivalences, Monto against what the documents say was paid, and the Totales arithmetic
    (each total = Σ ImporteP·TipoCambioP or BaseP·TipoCambioP, rounded to 2 decimals, with the
    tolerance of one cent per payment that SAT allows for the conversion)."""

    def __init__(self, checker: _Checker):
        self.c = checker
        self.root = checker.root

    def run(self):
        root, add = self.root, self.c.add
        if root.get("Moneda") != "XXX":
            add("CRP103", "En un CFDI de tipo P la moneda debe ser XXX.")
        if root.get("SubTotal") not in ("0", "0.00") or root.get("Total") not in ("0", "0.00"):
            add("CRP102", "En un CFDI de tipo P el SubTotal y el Total deben ser 0.")
        for attribute, code in (("FormaPago", "CRP104"), ("MetodoPago", "CRP105"), ("CondicionesDePago", "CRP106"),
                                ("Descuento", "CRP107"), ("TipoCambio", "CRP108")):  # fmt: skip
            if root.get(attribute) is not None:
                add(code, f"En un CFDI de tipo P no debe registrarse el atributo {attribute}.")
        if root.find(f"{_C}Impuestos") is not None:
            add("CRP110", "En un CFDI de tipo P no debe registrarse el nodo Impuestos.")
        receptor = root.find(f"{_C}Receptor")
        if receptor is not None and receptor.get("UsoCFDI") != "CP01":
            add("CRP112", "En un CFDI de tipo P el uso del CFDI debe ser CP01 (Pagos).")
        pagos = root.find(f"{_C}Complemento/{_P}Pagos")
        if pagos is None:
            add("CRP999", "El CFDI de tipo P debe incluir el complemento de recepción de pagos 2.0.")
            return
        expected = defaultdict(Decimal)
        count = 0
        for n, pago in enumerate(pagos.iterfind(f"{_P}Pago"), start=1):
            count += 1
            self.pago(pago, f"Pago {n}", expected)
        totales = pagos.find(f"{_P}Totales")
        if totales is None:
            return
        tolerance = Decimal("0.01") * max(count, 1)
        names = set(expected) | set(totales.attrib) | {"MontoTotalPagos"}
        for name in sorted(names):
            stated = _dec(totales.get(name))
            should = _round(expected.get(name, Decimal(0)), 2)
            if stated is None and expected.get(name, Decimal(0)) == 0:
                continue
            if stated is None or abs(stated - should) > tolerance:
                add(
                    "CRP301",
                    f"Totales: {name} es {totales.get(name) or 'ausente'} y la suma convertida a MXN de los "
                    f"pagos es {should}.",
                )

    def pago(self, pago, where, expected):
        add = self.c.add
        currency = pago.get("MonedaP", "")
        places = sat_catalogs.currency_decimals(currency)
        places = 2 if places is None else places
        if pago.get("FormaDePagoP") == "99":
            add("CRP201", "La forma de pago no puede ser 99 (Por definir).", where)
        if currency == "XXX":
            add("CRP202", "La moneda del pago no puede ser XXX.", where)
        rate = _dec(pago.get("TipoCambioP"))
        if currency == "MXN" and rate is not None and rate != 1:
            add("CRP204", "Con moneda MXN el tipo de cambio del pago debe ser 1.", where)
        if currency not in ("MXN", "") and rate is None:
            add("CRP203", f"Falta el tipo de cambio del pago en {currency}.", where)
        rate = rate or Decimal(1)
        monto = _dec(pago.get("Monto")) or Decimal(0)
        if monto <= 0:
            add("CRP207", "El monto del pago debe ser mayor que cero.", where)
        if _places(pago.get("Monto")) > places:
            add("CRP208", f"El monto tiene más decimales de los que admite la moneda {currency}.", where)
        paid = Decimal(0)
        for m, docto in enumerate(pago.iterfind(f"{_P}DoctoRelacionado"), start=1):
            here = f"{where}, documento {m}"
            same = docto.get("MonedaDR") == currency
            equivalence = _dec(docto.get("EquivalenciaDR"))
            if same and equivalence not in (None, Decimal(1)):
                add(
                    "CRP238", "Con la misma moneda del pago y del documento la equivalencia debe ser 1.", here
                )
            if not same and equivalence is None:
                add("CRP217", "Con monedas distintas del pago y del documento falta EquivalenciaDR.", here)
            before, amount, after = (
                _dec(docto.get(a)) for a in ("ImpSaldoAnt", "ImpPagado", "ImpSaldoInsoluto")
            )
            if before is None or amount is None or after is None:
                continue
            if before <= 0 or amount <= 0:
                add("CRP221", "El saldo anterior y el importe pagado deben ser mayores que cero.", here)
            if after != before - amount:
                add(
                    "CRP225",
                    f"El saldo insoluto {after} no es saldo anterior − importe pagado ({before - amount}).",
                    here,
                )
            if after < 0:
                add("CRP226", "El saldo insoluto no puede ser negativo.", here)
            paid += amount / (equivalence or Decimal(1))
        if monto < _round(paid, places) - Decimal(1).scaleb(-places):
            add(
                "CRP206",
                f"El monto {monto} es menor que la suma de los importes pagados ({_round(paid, places)}).",
                where,
            )
        expected["MontoTotalPagos"] += monto * rate
        impuestos = pago.find(f"{_P}ImpuestosP")
        if impuestos is None:
            return
        for node in impuestos.iterfind(f"{_P}RetencionesP/{_P}RetencionP"):
            name = {
                "001": "TotalRetencionesISR",
                "002": "TotalRetencionesIVA",
                "003": "TotalRetencionesIEPS",
            }.get(node.get("ImpuestoP"))
            if name:
                expected[name] += (_dec(node.get("ImporteP")) or 0) * rate
        for node in impuestos.iterfind(f"{_P}TrasladosP/{_P}TrasladoP"):
            if node.get("ImpuestoP") != "002":
                continue
            if node.get("TipoFactorP") == "Exento":
                expected["TotalTrasladosBaseIVAExento"] += (_dec(node.get("BaseP")) or 0) * rate
                continue
            suffix = {Decimal("0.16"): "IVA16", Decimal("0.08"): "IVA8", Decimal(0): "IVA0"}.get(
                _dec(node.get("TasaOCuotaP"))
            )
            if suffix:
                expected[f"TotalTrasladosBase{suffix}"] += (_dec(node.get("BaseP")) or 0) * rate
                expected[f"TotalTrasladosImpuesto{suffix}"] += (_dec(node.get("ImporteP")) or 0) * rate


def check(root, *, now: datetime | None = None, reference_rate: Decimal | None = None) -> list[Finding]:
    """SAT rule findings for a Comprobante (lxml element). ``now`` (aware) enables the 72-hour
    window check; ``reference_rate`` (the day's rate) enables the TipoCambio range check."""
    return _Checker(root, now, reference_rate).run()
