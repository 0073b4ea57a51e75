"""The SAT-facing layer: build the Comprobante with satcfdi, seal it, validate it, cadena original.

SAT's schemas and XSLT are the ones satcfdi ships. They are compiled once per process and kept
(compiling cfdv40.xsd costs a few hundred ms; validating a CFDI against the compiled schema, with
its largest catalogs checked in sets (``CfdiSchema``), a fraction of a millisecond).
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import pytz
from lxml import etree
from satcfdi.catalogs import select
from satcfdi.create.cfd import cfdi40
from satcfdi.transform import SCHEMA_ROOT

from erp.errors import DomainError
from erp.money import quantize
from erp.sat_catalogs import currency_decimals
from erp.taxes import CUOTA, DocumentTotals, Party, compute_document, fiscal_refusal

from .description import FiscalDocument, GlobalInfo, PaymentComplement
from .payments import build_payment_comprobante

CFDI_NS = "http://www.sat.gob.mx/cfd/4"
TFD_NS = "http://www.sat.gob.mx/TimbreFiscalDigital"
NS = {"cfdi": CFDI_NS, "tfd": TFD_NS}

_SAT = "www.sat.gob.mx/sitio_internet/cfd"
CFDI_XSD = f"{_SAT}/4/cfdv40.xsd"
TFD_XSD = f"{_SAT}/TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd"
PAGOS_NS = "http://www.sat.gob.mx/Pagos20"
PAGOS_XSD = f"{_SAT}/Pagos/Pagos20.xsd"
CFDI_XSLT = f"{_SAT}/4/cadenaoriginal_4_0/cadenaoriginal_4_0.xslt"
TFD_XSLT = f"{_SAT}/TimbreFiscalDigital/cadenaoriginal_TFD_1_1.xslt"
CATALOGS_XSD = f"{_SAT}/catalogos/catCFDI.xsd"
LARGE_CATALOGS = frozenset({"c_CodigoPostal", "c_ClaveProdServ", "c_ClaveUnidad"})
_XS = "{http://www.w3.org/2001/XMLSchema}"
_XML_SPACE = re.compile(r"[ \t\r\n]+")
_ENUMERATION_VALUES = etree.XPath("xs:enumeration/@value", namespaces={"xs": _XS[1:-1]}, smart_strings=False)
_OTHER_FACETS = etree.XPath("*[not(self::xs:enumeration)]", namespaces={"xs": _XS[1:-1]})

# Parsing XML that comes from outside: no entities, no network, bounded size (checked by callers).
SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, remove_blank_text=False, huge_tree=False
)


def schema_path(relative: str) -> str:
    return os.path.join(SCHEMA_ROOT, relative)


def _compile(parser=None) -> etree.XMLSchema:
    wrapper = etree.fromstring(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>',
        parser,
        base_url=schema_path("wrapper.xsd"),
    )
    for namespace, location in ((CFDI_NS, CFDI_XSD), (TFD_NS, TFD_XSD), (PAGOS_NS, PAGOS_XSD)):
        etree.SubElement(wrapper, f"{_XS}import", namespace=namespace, schemaLocation=location)
    return etree.XMLSchema(wrapper)


def full_cfdi_schema() -> etree.XMLSchema:
    """cfdv40.xsd and TFD 1.1 exactly as published, compiled anew (a fraction of a second): for
    comparisons. Documents are validated with ``cfdi_schema()``, which answers the same."""
    return _compile()


class _CatalogsResolver(etree.Resolver):
    """Serves the given catCFDI.xsd in place of the file when a schema imports it."""

    def __init__(self, catalogs: bytes):
        super().__init__()
        self.catalogs = catalogs

    def resolve(self, url, public_id, context):
        if url.endswith(CATALOGS_XSD):
            return self.resolve_string(self.catalogs, context)
        return None


class CfdiSchema:
    """cfdv40.xsd with TFD 1.1, compiled once per process, with its largest catalogs kept in sets.

    catCFDI.xsd declares c_CodigoPostal, c_ClaveProdServ and c_ClaveUnidad as enumerations of
    95,777, 52,747 and 2,418 values, and libxml2 compares a value with the enumerations one by
    one: a 10-concept CFDI took ~5 ms to validate, ~20 ms when its product keys sit late in the
    catalog, and most of a second to report one key that is not in it. Those three types are
    compiled without their enumerations, and the attributes of cfdv40.xsd typed with them are
    checked here against sets of the same values (after the whitespace collapsing the types
    declare). Every other rule of the schema is libxml2's.
    """

    def __init__(self):
        catalogs = etree.parse(schema_path(CATALOGS_XSD))
        self.catalogs: dict[str, tuple[frozenset[str], bool]] = {}  # name: (values, collapse)
        for simple_type in catalogs.getroot().iterfind(f"{_XS}simpleType"):
            if simple_type.get("name") in LARGE_CATALOGS:
                restriction = simple_type.find(f"{_XS}restriction")
                values = frozenset(_ENUMERATION_VALUES(restriction))
                facets = _OTHER_FACETS(restriction)  # whiteSpace: kept for libxml2 and applied here
                collapse = any(f.tag == f"{_XS}whiteSpace" and f.get("value") == "collapse" for f in facets)
                self.catalogs[simple_type.get("name")] = (values, collapse)
                base = restriction.get("base")
                restriction.clear()  # fast while no Python proxies of the enumerations exist
                restriction.set("base", base)
                restriction.extend(facets)
        parser = etree.XMLParser()
        parser.resolvers.add(_CatalogsResolver(etree.tostring(catalogs)))
        self.xsd = _compile(parser)
        # (path from the Comprobante, attribute, catalog) of every attribute typed with them.
        self.checks = []
        for node in etree.parse(schema_path(CFDI_XSD)).iter(f"{_XS}*"):
            for name, value in node.attrib.items():
                catalog = value.rpartition(":")[2]
                if catalog not in LARGE_CATALOGS:
                    continue
                if node.tag != f"{_XS}attribute" or name != "type":  # fail loudly, never check less
                    raise RuntimeError(f"cfdv40.xsd uses {value} in a way CfdiSchema does not check.")
                elements = [e.get("name") for e in node.iterancestors(f"{_XS}element")][::-1]
                path = "/".join(f"{{{CFDI_NS}}}{element}" for element in elements[1:]) or "."
                self.checks.append((path, node.get("name"), catalog))

    def errors(self, root) -> list[str]:
        errors = []
        if not self.xsd.validate(root):
            errors = [f"línea {e.line}: {e.message}" for e in self.xsd.error_log]
        if root.tag != f"{{{CFDI_NS}}}Comprobante":
            return errors
        for path, attribute, catalog in self.checks:
            values, collapse = self.catalogs[catalog]
            for element in root.iterfind(path):
                value = element.get(attribute)
                if value is not None and (_collapse(value) if collapse else value) not in values:
                    errors.append(
                        f"línea {element.sourceline or 0}: {attribute} «{value}» no está en el catálogo "
                        f"{catalog} del SAT."
                    )
        return errors


def _collapse(value: str) -> str:
    """XML Schema's whiteSpace="collapse"."""
    return _XML_SPACE.sub(" ", value).strip(" ")


@lru_cache(maxsize=1)
def cfdi_schema() -> CfdiSchema:
    return CfdiSchema()


# SAT's c_CodigoPostal names a zone in words; satcfdi maps "Tiempo del Noroeste" to
# America/Matamoros and "Tiempo del Pacífico" to America/La_Paz (Bolivia), which puts an invoice
# from Tijuana or Mazatlán hours off. Since the Ley del Sistema de Horario (2022) only the
# northern border keeps summer time, as the United States does.
SAT_ZONES = {
    "Tiempo del Centro": "America/Mexico_City",  # UTC−6, no summer time
    "Tiempo del Centro en Frontera": "America/Matamoros",  # UTC−6, US summer time (border)
    "Tiempo del Noroeste": "America/Tijuana",  # Baja California: UTC−8, US summer time
    "Tiempo del Pacífico": "America/Mazatlan",  # BCS, Sinaloa, Nayarit: UTC−7, no summer time
    "Tiempo del Sureste": "America/Cancun",  # Quintana Roo: UTC−5, no summer time
}
# Where a state differs from its SAT zone's usual zone: Sonora keeps UTC−7 without summer time
# (America/Hermosillo); Chihuahua's border zone is the Mountain time of Ciudad Juárez.
SAT_ZONES_BY_STATE = {
    ("Tiempo del Pacífico", "SON"): "America/Hermosillo",
    ("Tiempo del Centro en Frontera", "CHH"): "America/Ciudad_Juarez",
}


@lru_cache(maxsize=1024)
def timezone_of(postal_code: str):
    """The time zone of a postal code (SAT's c_CodigoPostal), mapped by ``SAT_ZONES``. satcfdi reads
    its SQLite catalog on every call; a document asks several times (Fecha, the 72-hour window,
    the stamp). An unknown postal code raises KeyError."""
    row = select("C756_c_CodigoPostal", postal_code)
    if row is None:
        raise KeyError(postal_code)
    state, zone = row[0], row[4]
    return pytz.timezone(SAT_ZONES_BY_STATE.get((zone, state)) or SAT_ZONES[zone])


@lru_cache(maxsize=2)
def _xslt(relative: str) -> etree.XSLT:
    return etree.XSLT(etree.parse(schema_path(relative)))


def schema_errors(root) -> list[str]:
    """Messages of cfdv40.xsd (and TFD 1.1) violations; empty when the document is valid."""
    return cfdi_schema().errors(root)


def cadena_original(root) -> str:
    """SAT's cadena original of a Comprobante, with cadenaoriginal_4_0.xslt."""
    return str(_xslt(CFDI_XSLT)(root))


def tfd_cadena_original(tfd) -> str:
    return str(_xslt(TFD_XSLT)(tfd))


def currency_places(currency: str) -> int:
    places = currency_decimals(currency)
    return 2 if places is None else places


class _Comprobante(cfdi40.Comprobante):
    """satcfdi's Comprobante with its own arithmetic switched off: every amount is set from
    erp.taxes, the project's one calculation module."""

    def compute(self):
        return None


def _q(value: Decimal, places: int) -> Decimal:
    """Writes an amount with the currency's decimals. erp.taxes has already rounded every amount
    and summary Base to them; should one ever come longer, it rounds as erp.taxes does (half up),
    never with Decimal's default half-even."""
    return quantize(value, places)


def local_fecha(document: FiscalDocument):
    """Fecha in the local time of the place of issue (SAT: hora local del lugar de expedición)."""
    from django.utils import timezone

    moment = document.issued_at or timezone.now()
    tz = timezone_of(document.lugar_expedicion)
    return moment.astimezone(tz).replace(tzinfo=None, microsecond=0)


def compute_totals(document: FiscalDocument) -> DocumentTotals:
    return compute_document((c.line_input() for c in document.concepts), currency_places(document.currency))


def _tax_node(t, places, *, line=False):
    # A line's IEPS Cuota has the quantity as its Base, written as typed (up to 6 decimals); the
    # summary row's Base comes rounded from erp.taxes.summarize (CFDI40215).
    base = t.base if (line and t.factor == CUOTA) else _q(t.base, places)
    node = {"Base": base, "Impuesto": t.tax, "TipoFactor": t.factor}
    if t.rate is not None:
        node["TasaOCuota"] = t.rate
        node["Importe"] = _q(t.amount, places)
    return node


def _text(label: str, value: str, maximum: int, *, required: bool = True) -> None:
    if (required and not value) or len(value) > maximum or "|" in value:
        raise DomainError(
            "cfdi_dato_invalido",
            f"{label} debe tener entre 1 y {maximum} caracteres y no puede contener «|».",
        )


def _six_places(label: str, value: Decimal) -> None:
    if value.as_tuple().exponent < -6 and value != value.quantize(Decimal("0.000001")):
        raise DomainError("cfdi_dato_invalido", f"{label} admite a lo más 6 decimales.")


def validate_description(document: FiscalDocument) -> None:
    """What cfdv40.xsd would refuse in the description, told in Spanish before anything is built."""
    _text("El nombre del emisor", document.issuer.name, 300)
    _text("El nombre del receptor", document.receiver.name, 300)
    _text("La serie", document.series, 25, required=False)
    _text("El folio", document.folio, 40, required=False)
    _text("Las condiciones de pago", document.payment_terms, 1000, required=False)
    for n, concept in enumerate(document.concepts, start=1):
        _text(f"La descripción del concepto {n}", concept.description, 1000)
        _text(f"La clave del concepto {n}", concept.sku, 100, required=False)
        _text(f"La unidad del concepto {n}", concept.unit, 20, required=False)
        _six_places(f"La cantidad del concepto {n}", Decimal(concept.quantity))
        _six_places(f"El valor unitario del concepto {n}", Decimal(concept.unit_price))
        refusal = fiscal_refusal(
            issuer=Party(document.issuer.rfc, document.issuer.regimen_fiscal),
            receiver=Party(document.receiver.rfc, document.receiver.regimen_fiscal),
            place_of_issue=document.lugar_expedicion,
            iva_rate=None if concept.iva_exempt else concept.iva_rate,
            retained_iva_rate=concept.retained_iva_rate,
            retained_isr_rate=concept.retained_isr_rate,
        )
        if refusal:
            raise DomainError("cfdi_impuestos_improcedentes", f"Concepto {n}: {refusal}")


@dataclass(frozen=True)
class PaymentTotals:
    """A payment complement's Comprobante amounts: SubTotal and Total are 0 (Moneda XXX)."""

    importe: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)
    total_transferred: Decimal | None = None
    total_withheld: Decimal | None = None
    total: Decimal = Decimal(0)


def build_comprobante(
    document: FiscalDocument | PaymentComplement,
) -> tuple[cfdi40.Comprobante, DocumentTotals]:
    """The unsealed Comprobante and the totals it was built from."""
    if isinstance(document, PaymentComplement):
        tz = timezone_of(document.lugar_expedicion)

        def local_time(moment):
            from django.utils import timezone

            return (moment or timezone.now()).astimezone(tz).replace(tzinfo=None, microsecond=0)

        return build_payment_comprobante(document, local_time), PaymentTotals()
    validate_description(document)
    places = currency_places(document.currency)
    totals = compute_totals(document)
    conceptos = []
    for concept, line in zip(document.concepts, totals.lines, strict=True):
        node = cfdi40.Concepto(
            clave_prod_serv=concept.product_key,
            cantidad=concept.quantity,
            clave_unidad=concept.unit_key,
            descripcion=concept.description,
            valor_unitario=concept.unit_price,
            objeto_imp=line.objeto_imp,
            no_identificacion=concept.sku or None,
            unidad=concept.unit or None,
            descuento=_q(line.discount, places) if line.discount else None,
        )
        node["Importe"] = _q(line.importe, places)
        taxes = {}
        if line.transferred:
            taxes["Traslados"] = [_tax_node(t, places, line=True) for t in line.transferred]
        if line.withheld:
            taxes["Retenciones"] = [_tax_node(t, places, line=True) for t in line.withheld]
        node["Impuestos"] = taxes or None
        conceptos.append(node)

    comprobante = _Comprobante(
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
            uso_cfdi=document.receiver.uso_cfdi,
        ),
        conceptos=conceptos,
        moneda=document.currency,
        tipo_de_comprobante=document.doc_type,
        exportacion=document.export,
        serie=document.series or None,
        folio=document.folio or None,
        forma_pago=document.forma_pago,
        condiciones_de_pago=document.payment_terms or None,
        tipo_cambio=document.exchange_rate,
        metodo_pago=document.metodo_pago,
        cfdi_relacionados=[
            cfdi40.CfdiRelacionados(tipo_relacion=r.relation_type, cfdi_relacionado=list(r.uuids))
            for r in document.related
        ]
        or None,
        fecha=local_fecha(document),
    )
    if document.global_info or document.is_public:
        info = document.global_info or GlobalInfo()
        fecha = comprobante["Fecha"]
        comprobante["InformacionGlobal"] = cfdi40.InformacionGlobal(
            periodicidad=info.periodicity,
            meses=info.months or f"{fecha.month:02d}",
            ano=info.year or fecha.year,
        )
    comprobante["SubTotal"] = _q(totals.importe, places)
    comprobante["Descuento"] = _q(totals.discount, places) if totals.discount else None
    comprobante["Total"] = _q(totals.total, places)
    impuestos = {}
    if totals.withheld:
        impuestos["Retenciones"] = [
            {"Impuesto": t.tax, "Importe": _q(t.amount, places)} for t in totals.withheld
        ]
        impuestos["TotalImpuestosRetenidos"] = _q(totals.total_withheld, places)
    if totals.transferred:
        impuestos["Traslados"] = [_tax_node(t, places) for t in totals.transferred]
        if totals.total_transferred is not None:
            impuestos["TotalImpuestosTrasladados"] = _q(totals.total_transferred, places)
    comprobante["Impuestos"] = impuestos or None
    return comprobante, totals


def to_bytes(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def seal_root(root, signer) -> None:
    """Set NoCertificado, Certificado and Sello (SHA-256 over SAT's cadena original) on an
    unsealed Comprobante element, in place (one serialization instead of satcfdi's two)."""
    root.set("NoCertificado", signer.certificate_number)
    root.set("Certificado", signer.certificate_base64())
    root.set("Sello", signer.sign_sha256(cadena_original(root).encode("utf-8")))


def seal(comprobante: cfdi40.Comprobante, signer) -> bytes:
    """Seal a Comprobante and serialize it."""
    root = comprobante.to_xml()
    seal_root(root, signer)
    return to_bytes(root)


def parse(xml: bytes):
    return etree.fromstring(xml, parser=SAFE_PARSER)


def certificate_der_from(root) -> bytes:
    return base64.b64decode(root.get("Certificado", ""))
