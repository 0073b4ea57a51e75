"""The printed representation of a stamped CFDI (PDF, weasyprint, Spanish).

Everything printed is read from the stamped XML, the legal record, never from the document
that produced it: what the customer reads is what SAT holds.
"""

from __future__ import annotations

import gc
import io
import re
import threading
from contextlib import contextmanager
from decimal import Decimal

import qrcode
from django.template.loader import render_to_string
from satcfdi.cfdi import CFDI
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from erp import sat_catalogs

from . import sat
from .amount_words import amount_in_words

C = f"{{{sat.CFDI_NS}}}"
TAX_NAMES = {"001": "ISR", "002": "IVA", "003": "IEPS"}
METODO_PAGO = {"PUE": "Pago en una sola exhibición", "PPD": "Pago en parcialidades o diferido"}
TIPO_COMPROBANTE = {"I": "Factura", "E": "Nota de crédito", "T": "Traslado", "P": "Pago"}
OBJETO_IMP = {
    "01": "No objeto",
    "02": "Sí objeto",
    "03": "Sí objeto, no obligado",
    "04": "Sí objeto, sin desglose",
}
TIPO_RELACION = {
    "01": "Nota de crédito de los documentos relacionados",
    "02": "Nota de débito de los documentos relacionados",
    "03": "Devolución de mercancía sobre facturas o traslados previos",
    "04": "Sustitución de los CFDI previos",
    "07": "CFDI por aplicación de anticipo",
}


def _named(code: str, name: str | None) -> str:
    return f"{code} - {name}" if code and name else code or ""


def _money(value) -> str:
    if value in (None, ""):
        return ""
    return f"{Decimal(value):,.2f}"


def _as_stamped(value) -> str:
    """A number with every decimal the CFDI carries (ValorUnitario 21.995000 prints 21.995000, not
    22.00, so that cantidad × precio on paper gives the stamped Importe), thousands separated."""
    if value in (None, ""):
        return ""
    whole, _, decimals = value.partition(".")
    return f"{int(whole):,}" + (f".{decimals}" if decimals else "")


def _rate(value, factor: str = "Tasa") -> str:
    if not value:
        return ""
    if factor == "Cuota":  # pesos per unit, as stamped
        return f"${_as_stamped(value)} por unidad"
    return f"{Decimal(value) * 100:.2f}".rstrip("0").rstrip(".") + "%"


# SAT asks for the verification URL in the QR, not for a mask: a fixed mask (one of the eight
# ISO 18004 defines, written in the code's format bits, so every reader unmasks it) spares
# qrcode trying all eight and scoring each, most of the QR's time. Mask 2 had the lowest median
# penalty score over 150 random verification URLs (version 8, level M), the one qrcode picks
# most often with mask 6.
QR_MASK_PATTERN = 2


def qr_png(url: str) -> bytes:
    image = qrcode.make(
        url,
        box_size=4,
        border=1,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        mask_pattern=QR_MASK_PATTERN,
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# The template names its images by these addresses, and ImageFetcher hands weasyprint their
# bytes as they are: written into the HTML as data: URIs, a logo was base64-encoded, read
# character by character by the HTML parser and decoded again by weasyprint, on every PDF.
QR_URL, LOGO_URL = "cfdi:qr", "cfdi:logo"


def _image_type(name: str) -> str:
    name = name.lower()
    if name.endswith(".svg"):
        return "image/svg+xml"
    return "image/png" if name.endswith(".png") else "image/jpeg"


class ImageFetcher(URLFetcher):
    """The images of one PDF (``{address: (content, media type)}``), and nothing else: the
    printed CFDI links to no outside resource."""

    def __init__(self, images: dict[str, tuple[bytes, str]]):
        super().__init__()
        self.images = images

    def fetch(self, url, headers=None):
        if url not in self.images:
            raise ValueError(f"El PDF del CFDI no enlaza {url}")
        content, media_type = self.images[url]
        return URLFetcherResponse(url, content, {"Content-Type": media_type})


def _taxes(node) -> list[dict]:
    rows = []
    if node is None:
        return rows
    for kind, path in (("Traslado", "Traslados/"), ("Retención", "Retenciones/")):
        for tax in node.iterfind(f"{C}{path}{C}{path[:-2]}"):
            rows.append(
                {
                    "kind": kind,
                    "name": TAX_NAMES.get(tax.get("Impuesto"), tax.get("Impuesto")),
                    "factor": tax.get("TipoFactor", ""),
                    "rate": _rate(tax.get("TasaOCuota"), tax.get("TipoFactor", "")),
                    "base": _money(tax.get("Base")),
                    "amount": _money(tax.get("Importe")),
                }
            )
    return rows


_P = f"{{{sat.PAGOS_NS}}}"


def _payments(root) -> list[dict]:
    """The Pagos 2.0 complement as printed: each payment and the invoices it settles."""
    payments = []
    for pago in root.iterfind(f"{C}Complemento/{_P}Pagos/{_P}Pago"):
        forma = pago.get("FormaDePagoP", "")
        payments.append(
            {
                "fecha": pago.get("FechaPago"),
                "forma": _named(forma, sat_catalogs.forma_pago_name(forma)),
                "currency": pago.get("MonedaP"),
                "exchange_rate": pago.get("TipoCambioP", ""),
                "amount": _money(pago.get("Monto")),
                "operation": pago.get("NumOperacion", ""),
                "documents": [
                    {
                        "uuid": d.get("IdDocumento"),
                        "number": f"{d.get('Serie', '')}{d.get('Folio', '')}",
                        "currency": d.get("MonedaDR"),
                        "equivalence": d.get("EquivalenciaDR", ""),
                        "installment": d.get("NumParcialidad"),
                        "previous": _money(d.get("ImpSaldoAnt")),
                        "paid": _money(d.get("ImpPagado")),
                        "remaining": _money(d.get("ImpSaldoInsoluto")),
                    }
                    for d in pago.iterfind(f"{_P}DoctoRelacionado")
                ],
            }
        )
    return payments


def verification_url(root) -> str:
    """SAT's verification URL of a stamped CFDI (the QR's content), by satcfdi's rule, given only
    the values it reads: satcfdi reading the whole XML into its objects took longer than the QR."""
    values = CFDI(
        {
            "Complemento": {
                "TimbreFiscalDigital": {
                    "UUID": root.find(f"{C}Complemento/{{{sat.TFD_NS}}}TimbreFiscalDigital").get("UUID")
                }
            },
            "Emisor": {"Rfc": root.find(f"{C}Emisor").get("Rfc")},
            "Receptor": {"Rfc": root.find(f"{C}Receptor").get("Rfc")},
            "Total": Decimal(root.get("Total")),
            "Sello": root.get("Sello"),
        }
    )
    values.tag = root.tag
    return values.verifica_url


def context_for(
    xml: bytes, *, logo: bytes | None = None, logo_name: str = "", cancelled: bool = False
) -> dict:
    root = sat.parse(xml)
    emisor, receptor = root.find(f"{C}Emisor"), root.find(f"{C}Receptor")
    tfd = root.find(f"{C}Complemento/{{{sat.TFD_NS}}}TimbreFiscalDigital")
    if tfd is None:
        raise ValueError("El CFDI no está timbrado.")
    concepts = []
    for concept in root.iterfind(f"{C}Conceptos/{C}Concepto"):
        unit_key = concept.get("ClaveUnidad", "")
        concepts.append(
            {
                "product_key": concept.get("ClaveProdServ"),
                "sku": concept.get("NoIdentificacion", ""),
                "quantity": Decimal(concept.get("Cantidad")).normalize(),
                "unit_key": unit_key,
                "unit": concept.get("Unidad") or sat_catalogs.clave_unidad_name(unit_key) or "",
                "description": concept.get("Descripcion"),
                "unit_price": _as_stamped(concept.get("ValorUnitario")),
                "discount": _money(concept.get("Descuento")),
                "amount": _money(concept.get("Importe")),
                "objeto_imp": OBJETO_IMP.get(concept.get("ObjetoImp"), concept.get("ObjetoImp")),
                "taxes": _taxes(concept.find(f"{C}Impuestos")),
            }
        )
    impuestos = root.find(f"{C}Impuestos")
    summary = []
    if impuestos is not None:
        for tax in impuestos.iterfind(f"{C}Traslados/{C}Traslado"):
            if tax.get("Importe") is not None:
                name = TAX_NAMES.get(tax.get("Impuesto"), "")
                summary.append(
                    (
                        f"{name} trasladado {_rate(tax.get('TasaOCuota'), tax.get('TipoFactor', ''))}",
                        _money(tax.get("Importe")),
                    )
                )
        for tax in impuestos.iterfind(f"{C}Retenciones/{C}Retencion"):
            summary.append(
                (f"{TAX_NAMES.get(tax.get('Impuesto'), '')} retenido", "-" + _money(tax.get("Importe")))
            )
    related = [
        {
            "type": _named(group.get("TipoRelacion"), TIPO_RELACION.get(group.get("TipoRelacion"))),
            "uuids": [r.get("UUID") for r in group.iterfind(f"{C}CfdiRelacionado")],
        }
        for group in root.iterfind(f"{C}CfdiRelacionados")
    ]
    currency = root.get("Moneda")
    forma = root.get("FormaPago", "")
    metodo = root.get("MetodoPago", "")
    verify_url = verification_url(root)
    return {
        "kind": TIPO_COMPROBANTE.get(root.get("TipoDeComprobante"), root.get("TipoDeComprobante")),
        "tipo": _named(root.get("TipoDeComprobante"), TIPO_COMPROBANTE.get(root.get("TipoDeComprobante"))),
        "series": root.get("Serie", ""),
        "folio": root.get("Folio", ""),
        "fecha": root.get("Fecha"),
        "lugar": root.get("LugarExpedicion"),
        "issuer": {
            "name": emisor.get("Nombre"),
            "rfc": emisor.get("Rfc"),
            "regimen": _named(
                emisor.get("RegimenFiscal"), sat_catalogs.regimen_fiscal_name(emisor.get("RegimenFiscal"))
            ),
        },
        "receiver": {
            "name": receptor.get("Nombre"),
            "rfc": receptor.get("Rfc"),
            "postal_code": receptor.get("DomicilioFiscalReceptor"),
            "regimen": _named(
                receptor.get("RegimenFiscalReceptor"),
                sat_catalogs.regimen_fiscal_name(receptor.get("RegimenFiscalReceptor")),
            ),
            "uso": _named(receptor.get("UsoCFDI"), sat_catalogs.uso_cfdi_name(receptor.get("UsoCFDI"))),
        },
        "concepts": concepts,
        "payments": _payments(root),
        "subtotal": _money(root.get("SubTotal")),
        "discount": _money(root.get("Descuento")),
        "tax_summary": summary,
        "total": _money(root.get("Total")),
        "currency": currency,
        "exchange_rate": root.get("TipoCambio", "") if currency not in ("MXN", "XXX") else "",
        "total_words": amount_in_words(root.get("Total"), currency),
        "forma_pago": _named(forma, sat_catalogs.forma_pago_name(forma)),
        "metodo_pago": _named(metodo, METODO_PAGO.get(metodo)),
        "condiciones": root.get("CondicionesDePago", ""),
        "exportacion": root.get("Exportacion", ""),
        "related": related,
        "certificate_number": root.get("NoCertificado"),
        "sello_cfd": root.get("Sello"),
        "uuid": tfd.get("UUID"),
        "fecha_timbrado": tfd.get("FechaTimbrado"),
        "rfc_prov_certif": tfd.get("RfcProvCertif"),
        "sat_certificate_number": tfd.get("NoCertificadoSAT"),
        "sello_sat": tfd.get("SelloSAT"),
        "tfd_cadena": sat.tfd_cadena_original(tfd),
        "verify_url": verify_url,
        "qr": QR_URL,
        "logo": LOGO_URL if logo else "",
        # what ImageFetcher hands weasyprint for the addresses above
        "images": {QR_URL: (qr_png(verify_url), "image/png")}
        | ({LOGO_URL: (logo, _image_type(logo_name))} if logo else {}),
        "cancelled": cancelled,
    }


_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


class _Renderer(threading.local):
    """What does not change between PDFs, kept per thread (weasyprint's objects are not shared
    across threads): the font configuration (Pango's font map: building it again for every PDF
    was most of a PDF's time) and the template's stylesheet, parsed once per distinct text. The
    template itself is cached by Django's loader. Each PDF is still laid out from its own XML,
    so it is unchanged. (Images are not kept: weasyprint's image cache is also the document's
    image store, so it is one per PDF.)"""

    def __init__(self):
        self.fonts = FontConfiguration()
        self.stylesheets: dict[str, CSS] = {}

    def stylesheet(self, text: str) -> CSS:
        if text not in self.stylesheets:
            self.stylesheets[text] = CSS(string=text, font_config=self.fonts)
        return self.stylesheets[text]


_renderer = _Renderer()


class _CollectorPause:
    """The cyclic garbage collector held off while PDFs are being laid out, then one pass over
    the young objects. A render makes tens of thousands of objects that live until its end (its
    boxes); each of them counts towards the collector's thresholds, so during a render it scans
    the process's whole heap again and again (a worker's heap is hundreds of thousands of
    objects) and finds them alive: a fifth of a PDF's CPU in bench/seal.py's process (85 of 385 ms).
    Held off, the render's short-lived cycles wait until its end, where one young-generation
    pass frees them (what the collector would do anyway, once). Counted, so that threads
    rendering at once hand the collector back only when the last one ends, and only if it was
    on when the first one began."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rendering = 0
        self.was_enabled = False

    @contextmanager
    def __call__(self):
        with self.lock:
            if not self.rendering:
                self.was_enabled = gc.isenabled()
                gc.disable()
            self.rendering += 1
        try:
            yield
        finally:
            with self.lock:
                self.rendering -= 1
                last = not self.rendering and self.was_enabled
                if last:
                    gc.enable()
            if last:
                gc.collect(0)


_collector_paused = _CollectorPause()


def render_pdf(
    xml: bytes, *, logo: bytes | None = None, logo_name: str = "", cancelled: bool = False
) -> bytes:
    """The PDF of a stamped CFDI."""
    with _collector_paused():
        context = context_for(xml, logo=logo, logo_name=logo_name, cancelled=cancelled)
        html = render_to_string("cfdi/pdf.html", context)
        # The template's own <style> is the same for every PDF: parse it once, pass it parsed.
        style = _STYLE.search(html)
        stylesheets = []
        if style:
            stylesheets.append(_renderer.stylesheet(style.group(1)))
            html = html[: style.start()] + html[style.end() :]
        return HTML(string=html, url_fetcher=ImageFetcher(context["images"])).write_pdf(
            stylesheets=stylesheets, font_config=_renderer.fonts
        )
