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

    # -- InformacionGlobal (CFDI40131–CFDI40136) ----------------------------------------------
    def global_info(self, node):
        periodicity, months, year = node.get("Periodicidad"), node.get("Meses", ""), node.get("Año", "")
        if periodicity not in ("01", "02", "03", "04", "05"):
            self.add("CFDI40131", "El campo Periodicidad, no contiene un valor del catálogo c_Periodicidad.")
        emisor = self.root.find(f"{_C}Emisor")
        if periodicity == "05" and (emisor is None or emisor.get("RegimenFiscal") != "621"):
            self.add(
                "CFDI40132",
                "El campo RegimenFiscal, no contiene el valor 621: la periodicidad bimestral (05) solo aplica al "
                "Régimen de Incorporación Fiscal.",
            )
        month = int(months) if months.isdigit() and len(months) == 2 else 0
        if not 1 <= month <= 18:
            self.add("CFDI40133", "El campo Meses, no contiene un valor del catálogo c_Meses.")
        elif periodicity != "05" and month > 12:
            self.add(
                "CFDI40134",
                "El campo Meses, no contiene alguno de los valores “01”, “02”, “03”, “04”, “05”, “06”, “07”, "
                "“08”, “09”, “10”, “11” o “12”.",
            )
        elif periodicity == "05" and month <= 12:
            self.add(
                "CFDI40135",
                "El campo Meses, no contiene alguno de los valores “13”, “14”, “15”, “16”, “17” o “18”.",
            )
        fecha = self.root.get("Fecha", "")
        issued = int(fecha[:4]) if fecha[:4].isdigit() else None
        if not year.isdigit() or (issued is not None and int(year) not in (issued, issued - 1)):
            self.add("CFDI40136", "El campo Año, no es igual al año en curso o al año inmediato anterior.")

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
        if global_info is not None:
            self.global_info(global_info)
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


# c_FormaPago: the bank-transfer forms («bancarizadas») that may carry the ordering account
# (RfcEmisorCtaOrd, CtaOrdenante) and those that may carry the beneficiary's (RfcEmisorCtaBen,
# CtaBeneficiario).
ORDERING_FORMS = frozenset(["02", "03", "04", "05", "06", "28", "29"])
BENEFICIARY_FORMS = frozenset(["02", "03", "04", "05", "28", "29"])
OBJETO_IMP = frozenset(["01", "02", "03", "04", "05", "06", "07", "08"])
_TOTALS = {  # Totales attribute -> its CRP code in SAT's matrix
    "TotalRetencionesIVA": "CRP20201",
    "TotalRetencionesISR": "CRP20202",
    "TotalRetencionesIEPS": "CRP20203",
    "TotalTrasladosBaseIVA16": "CRP20204",
    "TotalTrasladosImpuestoIVA16": "CRP20205",
    "TotalTrasladosBaseIVA8": "CRP20206",
    "TotalTrasladosImpuestoIVA8": "CRP20207",
    "TotalTrasladosBaseIVA0": "CRP20208",
    "TotalTrasladosImpuestoIVA0": "CRP20209",
    "TotalTrasladosBaseIVAExento": "CRP20210",
    "MontoTotalPagos": "CRP20211",
}


class _PagosChecker:
    """The rules of SAT's «Matriz de errores» of the Complemento para recepción de pagos 2.0
    (codes CRP20101–CRP20279, SAT's wording) that can be checked without SAT's records (the
    l_RFC list, the Confirmacion keys): the fixed values of the Comprobante and its one Concepto,
    each Pago, each DoctoRelacionado and its taxes, ImpuestosP against the documents, and the
    Totales (each = the rounding of Σ ImporteP·TipoCambioP or BaseP·TipoCambioP, or of
    Σ Monto·TipoCambioP). Not checked here: the ordering and beneficiary accounts' patterns
    (CRP20225, CRP20226), the multi-currency margins (CRP20275, CRP20276) and the ImporteDR limits
    (CRP20254, CRP20261)."""

    def __init__(self, checker: _Checker):
        self.c = checker
        self.root = checker.root

    def run(self):
        root, add = self.root, self.c.add
        if root.get("TipoDeComprobante") != "P":
            add("CRP20101", 'El valor del campo TipoDeComprobante debe ser "P".')
        if root.get("Exportacion") != "01":
            add("CRP20102", 'El valor del campo Exportacion debe ser "01".')
        if root.get("SubTotal") != "0":
            add("CRP20103", 'El valor del campo SubTotal debe ser cero "0".')
        if root.get("Moneda") != "XXX":
            add("CRP20104", 'El valor del campo Moneda debe ser "XXX".')
        for attribute, code in (("FormaPago", "CRP20105"), ("MetodoPago", "CRP20106"), ("CondicionesDePago", "CRP20107"),
                                ("Descuento", "CRP20108"), ("TipoCambio", "CRP20109")):  # fmt: skip
            if root.get(attribute) is not None:
                add(code, f"El campo {attribute} no se debe registrar en el CFDI.")
        if root.get("Total") != "0":
            add("CRP20110", 'El valor del campo Total debe ser cero "0".')
        self.concept()
        if root.find(f"{_C}Impuestos") is not None:
            add("CRP20123", "No se debe registrar el apartado de Impuestos en el CFDI.")
        receptor = root.find(f"{_C}Receptor")
        if receptor is not None and receptor.get("UsoCFDI") != "CP01":
            # Guía de llenado del CFDI con complemento de pagos: UsoCFDI «CP01 Pagos» (no CRP code).
            add("CRP20999", "En un CFDI de tipo P el campo UsoCFDI debe ser CP01 (Pagos).")
        pagos = root.find(f"{_C}Complemento/{_P}Pagos")
        if pagos is None:
            add("CRP20999", "El CFDI de tipo P debe incluir el complemento para recepción de pagos 2.0.")
            return
        expected = defaultdict(Decimal)
        for n, pago in enumerate(pagos.iterfind(f"{_P}Pago"), start=1):
            self.pago(pago, f"Pago {n}", expected)
        totales = pagos.find(f"{_P}Totales")
        if totales is None:
            return
        for name, code in _TOTALS.items():
            stated = totales.get(name)
            if stated is None:
                continue  # a total that must exist is CRP20264, CRP20267 or CRP20273 (per Pago)
            should = _round(expected.get(name, Decimal(0)), 2)
            if _dec(stated) != should:
                add(
                    code,
                    f"El valor del campo {name} ({stated}) no es igual al redondeo de la suma del resultado de "
                    f"multiplicar cada importe por el TipoCambioP de cada nodo Pago ({should}).",
                )

    def concept(self):
        add = self.c.add
        concepts = self.root.findall(f"{_C}Conceptos/{_C}Concepto")
        if len(concepts) != 1:
            add("CRP20111", "Solo debe existir un Concepto en el CFDI.")
        for concept in concepts:
            if any(child.tag != f"{_C}ACuentaTerceros" for child in concept):
                add(
                    "CRP20112",
                    "Si no existe el nodo ACuentaTerceros, no se deben registrar apartados dentro de Conceptos.",
                )
            fixed = (("ClaveProdServ", "84111506", "CRP20113"), ("Cantidad", "1", "CRP20115"),
                     ("ClaveUnidad", "ACT", "CRP20116"), ("Descripcion", "Pago", "CRP20118"),
                     ("ValorUnitario", "0", "CRP20119"), ("Importe", "0", "CRP20120"),
                     ("ObjetoImp", "01", "CRP20122"))  # fmt: skip
            for attribute, value, code in fixed:
                if concept.get(attribute) != value:
                    label = f'cero "{value}"' if value == "0" else f'"{value}"'
                    add(code, f"El valor del campo {attribute} debe ser {label}.")
            for attribute, code in (
                ("NoIdentificacion", "CRP20114"),
                ("Unidad", "CRP20117"),
                ("Descuento", "CRP20121"),
            ):
                if concept.get(attribute) is not None:
                    add(code, f"El campo {attribute} no se debe registrar en el CFDI.")

    def pago(self, pago, where, expected):
        add = self.c.add
        currency = pago.get("MonedaP", "")
        places = sat_catalogs.currency_decimals(currency)
        places = 2 if places is None else places
        form = pago.get("FormaDePagoP")
        if form == "99":
            add("CRP20212", 'El valor del campo FormaDePagoP debe ser distinto de "99".', where)
        if currency == "XXX":
            add("CRP20213", 'El campo MonedaP debe ser distinto de "XXX".', where)
        rate = _dec(pago.get("TipoCambioP"))
        if currency not in ("MXN", "") and rate is None:
            add("CRP20214", "El campo TipoCambioP se debe registrar.", where)
        if currency == "MXN" and pago.get("TipoCambioP") not in (None, "1"):
            add("CRP20215", 'El campo TipoCambioP debe contener el valor "1".', where)
        rate = rate or Decimal(1)
        monto = _dec(pago.get("Monto")) or Decimal(0)
        if monto <= 0:
            add("CRP20218", 'El valor del campo Monto no es mayor que cero "0".', where)
        if _places(pago.get("Monto")) > places:
            add(
                "CRP20219",
                "El valor del campo Monto debe tener hasta la cantidad de decimales que soporte la moneda "
                "registrada en el campo MonedaP.",
                where,
            )
        self.accounts(pago, form, where)
        paid = Decimal(0)
        documents: dict[tuple, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
        for m, docto in enumerate(pago.iterfind(f"{_P}DoctoRelacionado"), start=1):
            here = f"{where}, documento {m}"
            equivalence = self.docto(docto, currency, here)
            amount = _dec(docto.get("ImpPagado"))
            if amount is not None:
                paid += amount / equivalence
            for node in docto.iterfind(f"{_P}ImpuestosDR/{_P}RetencionesDR/{_P}RetencionDR"):
                entry = documents[(True, node.get("ImpuestoDR"), None, None)]
                entry[1] += (_dec(node.get("ImporteDR")) or 0) / equivalence
                entry[2] += 1
            for node in docto.iterfind(f"{_P}ImpuestosDR/{_P}TrasladosDR/{_P}TrasladoDR"):
                key = (
                    False,
                    node.get("ImpuestoDR"),
                    node.get("TipoFactorDR"),
                    _dec(node.get("TasaOCuotaDR")),
                )
                entry = documents[key]
                entry[0] += (_dec(node.get("BaseDR")) or 0) / equivalence
                entry[1] += (_dec(node.get("ImporteDR")) or 0) / equivalence
                entry[2] += 1
        if monto < _round(paid, places) - Decimal(1).scaleb(-places):
            add(
                "CRP20217",
                "La suma de los valores registrados en el campo ImpPagado de los apartados DoctoRelacionado no "
                f"es menor o igual que el valor del campo Monto ({_round(paid, places)} > {monto}).",
                where,
            )
        expected["MontoTotalPagos"] += monto * rate
        self.impuestos_p(pago, where, places, rate, documents, expected)

    def accounts(self, pago, form, where):
        add = self.c.add
        for attribute, code, allowed in (
            ("RfcEmisorCtaOrd", "CRP20221", ORDERING_FORMS),
            ("CtaOrdenante", "CRP20224", ORDERING_FORMS),
            ("RfcEmisorCtaBen", "CRP20227", BENEFICIARY_FORMS),
            ("CtaBeneficiario", "CRP20228", BENEFICIARY_FORMS),
        ):
            if pago.get(attribute) is not None and form not in allowed:
                add(code, f"El campo {attribute} no se debe registrar (forma de pago {form}).", where)
        if pago.get("RfcEmisorCtaOrd") == "XEXX010101000" and not pago.get("NomBancoOrdExt"):
            add("CRP20223", "El campo NomBancoOrdExt se debe registrar.", where)
        if pago.get("TipoCadPago") is not None and form != "03":
            add("CRP20229", "El campo TipoCadPago no se debe registrar.", where)
        chain = pago.get("TipoCadPago") is not None
        for attribute, present, absent in (
            ("CertPago", "CRP20230", "CRP20231"),
            ("CadPago", "CRP20232", "CRP20233"),
            ("SelloPago", "CRP20234", "CRP20235"),
        ):
            if chain and pago.get(attribute) is None:
                add(present, f"El campo {attribute} se debe registrar.", where)
            if not chain and pago.get(attribute) is not None:
                add(absent, f"El campo {attribute} no se debe registrar.", where)

    def docto(self, docto, currency, here) -> Decimal:
        """Check one DoctoRelacionado; return its EquivalenciaDR (1 when absent)."""
        add = self.c.add
        currency_dr = docto.get("MonedaDR", "")
        places = sat_catalogs.currency_decimals(currency_dr)
        places = 2 if places is None else places
        if currency_dr == "XXX":
            add("CRP20236", 'El valor del campo MonedaDR debe ser distinto de "XXX".', here)
        equivalence = _dec(docto.get("EquivalenciaDR"))
        if currency_dr != currency and equivalence is None:
            add("CRP20237", "El campo EquivalenciaDR se debe registrar.", here)
        if currency_dr == currency and docto.get("EquivalenciaDR") is not None and equivalence != 1:
            add("CRP20238", 'El campo EquivalenciaDR debe contener el valor "1".', here)
        before, amount, after = (_dec(docto.get(a)) for a in ("ImpSaldoAnt", "ImpPagado", "ImpSaldoInsoluto"))
        if before is not None and before <= 0:
            add("CRP20239", "El campo ImpSaldoAnt debe mayor a cero.", here)
        if amount is not None and amount <= 0:
            add("CRP20241", "El campo ImpPagado debe mayor a cero.", here)
        for attribute, code in (
            ("ImpSaldoAnt", "CRP20240"),
            ("ImpPagado", "CRP20242"),
            ("ImpSaldoInsoluto", "CRP20243"),
        ):
            if _places(docto.get(attribute)) > places:
                add(
                    code,
                    f"El valor del campo {attribute} debe tener hasta la cantidad de decimales que soporte la "
                    "moneda registrada en el campo MonedaDR.",
                    here,
                )
        if None not in (before, amount, after) and (after < 0 or after != before - amount):
            add(
                "CRP20244",
                "El campo ImpSaldoInsoluto debe ser mayor o igual a cero y calcularse con la suma de los campos "
                f"ImpSaldoAnt menos el ImpPagado ({before - amount}).",
                here,
            )
        objeto = docto.get("ObjetoImpDR")
        impuestos = docto.find(f"{_P}ImpuestosDR")
        if objeto not in OBJETO_IMP:
            add("CRP20245", "El campo ObjetoImpDR, debe tener un valor del catálogo c_ObjetoImp.", here)
        elif objeto == "02" and impuestos is None:
            add("CRP20246", "El nodo hijo ImpuestosDR del nodo DoctoRelacionado debe existir.", here)
        elif objeto in ("01", "03", "04", "05") and impuestos is not None:
            add("CRP20247", "El nodo hijo ImpuestosDR del nodo DoctoRelacionado no debe existir.", here)
        if impuestos is not None:
            self.impuestos_dr(impuestos, here)
        return equivalence or Decimal(1)

    def impuestos_dr(self, impuestos, here):
        add = self.c.add
        withheld = impuestos.findall(f"{_P}RetencionesDR/{_P}RetencionDR")
        transferred = impuestos.findall(f"{_P}TrasladosDR/{_P}TrasladoDR")
        if not withheld and not transferred:
            add(
                "CRP20248",
                "En caso de utilizar el nodo Impuestos en un documento relacionado, se deben incluir impuestos "
                "de traslados y/o retenciones.",
                here,
            )
        for node in withheld:
            if (_dec(node.get("BaseDR")) or 0) <= 0:
                add(
                    "CRP20249",
                    "El valor del campo BaseDR que corresponde a Retención debe ser mayor que cero.",
                    here,
                )
            if node.get("TipoFactorDR") == "Exento":
                add(
                    "CRP20252",
                    "El valor registrado en el campo TipoFactorDR que corresponde a Retención debe ser distinto "
                    "de Exento.",
                    here,
                )
        for node in transferred:
            if (_dec(node.get("BaseDR")) or 0) <= 0:
                add(
                    "CRP20255",
                    "El valor del campo BaseDR que corresponde a Traslado debe ser mayor que cero.",
                    here,
                )
            exempt = node.get("TipoFactorDR") == "Exento"
            has = node.get("TasaOCuotaDR") is not None or node.get("ImporteDR") is not None
            if exempt and has:
                add(
                    "CRP20258",
                    "Si el valor registrado es Exento no se deben registrar los atributos TasaOCuotaDR ni ImporteDR.",
                    here,
                )
            if not exempt and (node.get("TasaOCuotaDR") is None or node.get("ImporteDR") is None):
                add(
                    "CRP20259",
                    "Si el valor registrado en TipoFactorDR es Tasa o Cuota, se deben registrar los atributos "
                    "TasaOCuotaDR e ImporteDR.",
                    here,
                )

    def impuestos_p(self, pago, where, places, rate, documents, expected):
        add = self.c.add
        impuestos = pago.find(f"{_P}ImpuestosP")
        totales = self.root.find(f"{_C}Complemento/{_P}Pagos/{_P}Totales")
        totals = totales.attrib if totales is not None else {}
        unit = Decimal(1).scaleb(-places)
        withheld = impuestos.findall(f"{_P}RetencionesP/{_P}RetencionP") if impuestos is not None else []
        transferred = impuestos.findall(f"{_P}TrasladosP/{_P}TrasladoP") if impuestos is not None else []
        if withheld and not any(
            name in totals for name in ("TotalRetencionesIVA", "TotalRetencionesISR", "TotalRetencionesIEPS")
        ):
            add(
                "CRP20264",
                "Debe existir al menos uno de los campos TotalRetencionesIVA, TotalRetencionesISR, "
                "TotalRetencionesIEPS.",
                where,
            )
        seen = set()
        for node in withheld:
            tax = node.get("ImpuestoP")
            if tax in seen:
                add("CRP20263", "Debe haber sólo un registro por cada tipo de impuesto retenido.", where)
            seen.add(tax)
            amount = _dec(node.get("ImporteP")) or Decimal(0)
            _, should, count = documents.get((True, tax, None, None), (0, Decimal(0), 0))
            if abs(amount - _round(should, places)) > unit * max(count, 1):
                add(
                    "CRP20265",
                    "El campo ImporteP que corresponde a Retención, no es igual a la suma de los importes de los "
                    "impuestos retenidos registrados en el documento relacionado donde el impuesto sea igual al "
                    f"campo ImpuestoP de este elemento ({_round(should, places)}).",
                    where,
                )
            name = {
                "001": "TotalRetencionesISR",
                "002": "TotalRetencionesIVA",
                "003": "TotalRetencionesIEPS",
            }.get(tax)
            if name:
                expected[name] += amount * rate
        seen = set()
        for node in transferred:
            tax, factor, tasa = node.get("ImpuestoP"), node.get("TipoFactorP"), _dec(node.get("TasaOCuotaP"))
            key = (False, tax, factor, tasa)
            if key in seen:
                add(
                    "CRP20271",
                    "Debe haber sólo un registro con la misma combinación de impuesto, factor y tasa por cada "
                    "traslado.",
                    where,
                )
            seen.add(key)
            base = _dec(node.get("BaseP")) or Decimal(0)
            amount = _dec(node.get("ImporteP"))
            should_base, should_amount, count = documents.get(key, (Decimal(0), Decimal(0), 0))
            tolerance = unit * max(count, 1)
            if factor == "Exento":
                if node.get("TasaOCuotaP") is not None or amount is not None:
                    add("CRP20266", "Deben existir solo los campos BaseP, ImpuestoP y TipoFactorP.", where)
                if abs(base - _round(should_base, places)) > tolerance:
                    add(
                        "CRP20269",
                        "El importe del campo BaseP que corresponde a Traslado, no es igual a la suma de los "
                        f"importes de las bases registrados en los documentos relacionados ({_round(should_base, places)}).",
                        where,
                    )
            else:
                if abs(base - _round(should_base, places)) > tolerance:
                    add(
                        "CRP20268",
                        "El campo BaseP que corresponde a Traslado, no es igual a la suma de los importes de las "
                        "bases registrados en los documentos relacionados con el mismo impuesto y TasaOCuota "
                        f"({_round(should_base, places)}).",
                        where,
                    )
                if amount is None or abs(amount - _round(should_amount, places)) > tolerance:
                    add(
                        "CRP20274",
                        "El campo ImporteP que corresponde a Traslado, no es igual a la suma de los importes de los "
                        "impuestos registrados en los documentos relacionados con el mismo impuesto y TasaOCuota "
                        f"({_round(should_amount, places)}).",
                        where,
                    )
            if tax != "002":
                continue
            if not any(name.startswith("TotalTrasladosBaseIVA") for name in totals):
                add(
                    "CRP20267",
                    "Debe existir al menos uno de los campos TotalTrasladosBaseIVA16 y/o TotalTrasladosBaseIVA8 "
                    "y/o TotalTrasladosBaseIVA0 y/o TotalTrasladosBaseIVAExento.",
                    where,
                )
            if factor == "Exento":
                expected["TotalTrasladosBaseIVAExento"] += base * rate
                continue
            if not any(name.startswith("TotalTrasladosImpuestoIVA") for name in totals):
                add(
                    "CRP20273",
                    "Deben existir al menos uno de los campos TotalTrasladosImpuestoIVA16, "
                    "TotalTrasladosImpuestoIVA8, TotalTrasladosImpuestoIVA0 cuando existan traslados con un "
                    "TipoFactor distinto a Exento.",
                    where,
                )
            suffix = {Decimal("0.16"): "IVA16", Decimal("0.08"): "IVA8", Decimal(0): "IVA0"}.get(tasa)
            if suffix:
                expected[f"TotalTrasladosBase{suffix}"] += base * rate
                expected[f"TotalTrasladosImpuesto{suffix}"] += (amount or Decimal(0)) * rate


def check(root, *, now: datetime | None = None, reference_rate: Decimal | None = None) -> list[Finding]:
    """SAT rule findings for a Comprobante (lxml element). ``now`` (aware) enables the 72-hour
    window check; ``reference_rate`` (the day's rate) enables the TipoCambio range check."""
    return _Checker(root, now, reference_rate).run()
