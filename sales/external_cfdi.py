"""Loading CFDIs stamped elsewhere and linking them to invoices, by the seed's rules.

The XML is parsed with entity resolution and network access off and its size bounded (a DOCTYPE or
ENTITY declaration is refused before parsing); a loaded CFDI must prove itself by its sello
(``cfdi.verification``); only the attributes needed to check the link are read, and the file is
kept exactly as uploaded.
"""

from decimal import Decimal, InvalidOperation

from lxml import etree

from cfdi.models import CfdiDocument
from cfdi.verification import refuse_declarations, refuse_parsed_declarations, verify_seal
from erp.errors import DomainError
from erp.money import AMOUNT_LIMIT
from erp.transactions import business_action

from .cfdi_mapping import SOURCE_MODEL
from .document_models import DocumentKind, DocumentStatus, SalesDocument
from .external_models import ExternalCfdi
from .models import SalesEntity

MAX_XML_BYTES = 2 * 1024 * 1024
MAX_PDF_BYTES = 10 * 1024 * 1024
CFDI_NAMESPACES = {"http://www.sat.gob.mx/cfd/4": "4.0", "http://www.sat.gob.mx/cfd/3": "3.3"}
TFD = "{http://www.sat.gob.mx/TimbreFiscalDigital}TimbreFiscalDigital"

FIJA_MESSAGE = (
    "No se puede subir ningun CFDI, porque esta entidad de venta está establecida como Fija. Solo se "
    "permite enlazar documentos fiscales a ventas pertenecientes a entidades de factura enlazadas a la "
    "contabilidad, osea, que generen su registro de póliza de ingresos o de diario según sea una factura "
    "de contado o de crédito."
)
WRONG_TYPE_MESSAGE = (
    "El tipo de comprobante fiscal digital CFDI, No corresponde con el tipo de documento a enlazar."
)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _invalid(detail: str) -> DomainError:
    return DomainError("cfdi_invalido", f"El archivo no es un CFDI válido: {detail}.")


def parse_cfdi(xml: bytes, *, verify: bool = False) -> dict:
    """The attributes of a stamped CFDI 3.3 or 4.0 that loading and linking need; with ``verify``,
    only of a CFDI whose sello proves it (``cfdi.verification``)."""
    if len(xml) > MAX_XML_BYTES:
        raise _invalid(f"pesa más de {MAX_XML_BYTES // 1024 // 1024} MB")
    refuse_declarations(xml)
    try:
        root = etree.fromstring(xml, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise _invalid("no es XML bien formado") from exc
    refuse_parsed_declarations(root)
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname != "Comprobante" or namespace not in CFDI_NAMESPACES:
        raise _invalid("no es un Comprobante del SAT versión 3.3 o 4.0")
    issuer = root.find(f"{{{namespace}}}Emisor")
    receiver = root.find(f"{{{namespace}}}Receptor")
    stamp = root.find(f".//{TFD}")
    if issuer is None or receiver is None:
        raise _invalid("le falta el Emisor o el Receptor")
    if stamp is None or not stamp.get("UUID"):
        raise DomainError("cfdi_sin_timbre", "El CFDI no está timbrado: no tiene TimbreFiscalDigital.")
    if verify:
        verify_seal(root)
    if root.get("version") == "3.2":
        _names_of_32(root, issuer, receiver)
    try:
        total = Decimal(root.get("Total", ""))
    except InvalidOperation as exc:
        raise _invalid("el Total no es un número") from exc
    if not total.is_finite() or total < 0 or total >= AMOUNT_LIMIT:
        raise _invalid("el Total está fuera de rango")
    return {
        "uuid": stamp.get("UUID").upper(),
        "version": root.get("Version") or CFDI_NAMESPACES[namespace],
        "doc_type": root.get("TipoDeComprobante", ""),
        "issuer_rfc": issuer.get("Rfc", "").upper(),
        "receiver_rfc": receiver.get("Rfc", "").upper(),
        "receiver_name": receiver.get("Nombre", "")[:300],
        "series": root.get("Serie", "")[:25],
        "folio": root.get("Folio", "")[:40],
        "issued_at": root.get("Fecha", "")[:19],
        "currency": root.get("Moneda", "")[:3],
        "total": total,
    }


def _names_of_32(root, issuer, receiver) -> None:
    """CFDI 3.2 writes ``total``, ``rfc``, ``tipoDeComprobante="ingreso"``: read them by the 3.3
    names (on the parsed tree only; the file is kept as uploaded)."""
    for node in (root, issuer, receiver):
        for name, value in list(node.attrib.items()):
            node.set(name[0].upper() + name[1:], value)
    kinds = {"ingreso": "I", "egreso": "E", "traslado": "T"}
    root.set("TipoDeComprobante", kinds.get(root.get("tipoDeComprobante", "").lower(), ""))


@business_action
def load_external_cfdi(*, entity: SalesEntity, xml: bytes, pdf=None, user=None) -> ExternalCfdi:
    """Cargar XML y/o PDF: keep a CFDI stamped by another PAC in the entity, ready to link."""
    if not entity.is_contable:
        raise DomainError("entidad_fija", FIJA_MESSAGE)
    data = parse_cfdi(xml, verify=True)
    if data["issuer_rfc"] != entity.company.rfc:
        raise DomainError(
            "cfdi_de_otro_emisor",
            f"El RFC emisor del CFDI ({data['issuer_rfc']}) no es el de la empresa ({entity.company.rfc}).",
        )
    if pdf is not None and pdf.size > MAX_PDF_BYTES:
        raise DomainError("pdf_muy_grande", f"El PDF pesa más de {MAX_PDF_BYTES // 1024 // 1024} MB.")
    if ExternalCfdi.objects.filter(company=entity.company, uuid=data["uuid"]).exists() or _stamped_here(
        entity.company, data["uuid"]
    ):
        raise DomainError("cfdi_duplicado", f"El CFDI {data['uuid']} ya fue cargado.", status=409)
    external = ExternalCfdi(company=entity.company, entity=entity, xml=xml, uploaded_by=user, **data)
    if pdf is not None:
        external.pdf.save(f"{data['uuid']}.pdf", pdf, save=False)
    external.save()
    return external


@business_action
def link_external_cfdi(*, invoice: SalesDocument, external: ExternalCfdi) -> ExternalCfdi:
    """Enlazar a Factura, by the seed's rules A.1–A.4."""
    invoice = (
        SalesDocument.objects.select_for_update(of=("self",)).select_related("customer").get(pk=invoice.pk)
    )
    external = ExternalCfdi.objects.select_for_update().get(pk=external.pk)
    if external.entity_id != invoice.entity_id:
        raise DomainError("cfdi_otra_entidad", "El CFDI se cargó a otra entidad de venta.")
    if external.doc_type != "I":
        raise DomainError("cfdi_tipo_incorrecto", WRONG_TYPE_MESSAGE)
    if invoice.kind != DocumentKind.INVOICE or invoice.status in (
        DocumentStatus.DRAFT,
        DocumentStatus.CANCELLED,
    ):
        raise DomainError(
            "factura_no_enlazable",
            f"La factura está {invoice.get_status_display().lower()}: solo se enlaza una factura agregada y vigente.",
            status=409,
        )
    if external.invoice_id is not None:
        raise DomainError("cfdi_ya_enlazado", f"El CFDI ya está enlazado a {external.invoice}.", status=409)
    if invoice.external_cfdis.exists() or _has_own_cfdi(invoice):
        raise DomainError(
            "factura_ya_enlazada", "La factura ya tiene un documento fiscal; solo se enlaza uno.", status=409
        )
    if invoice.customer.is_counter:
        raise DomainError(
            "cfdi_mostrador", "No se pueden enlazar CFDIs a ventas de mostrador (cliente cero)."
        )
    if external.receiver_rfc != invoice.customer_rfc:
        raise DomainError(
            "cfdi_otro_receptor",
            f"El RFC del receptor del CFDI ({external.receiver_rfc}) no es el del cliente de la factura "
            f"({invoice.customer_rfc}).",
        )
    if external.total != invoice.total:
        raise DomainError(
            "cfdi_total_distinto",
            f"El total en el CFDI no corresponde al total de la factura. No se puede enlazar. "
            f"DOC: {invoice.total} XML: {external.total}",
        )
    external.invoice = invoice
    external.save(update_fields=["invoice"])
    return external


def free_external_cfdis(*, invoice: SalesDocument) -> int:
    """Cancellation rule 7: CFDIs linked to a cancelled invoice can be linked to another one."""
    return ExternalCfdi.objects.filter(invoice=invoice).update(invoice=None)


def _stamped_here(company, uuid: str) -> bool:
    """A UUID this project stamped is not loaded again as if another PAC had stamped it."""
    return CfdiDocument.objects.filter(company=company, uuid__iexact=uuid).exists()


def _has_own_cfdi(invoice: SalesDocument) -> bool:
    return CfdiDocument.objects.filter(
        source_model=SOURCE_MODEL, source_id=invoice.pk, status=CfdiDocument.Status.STAMPED
    ).exists()


def related_uuids(xml: bytes) -> set[tuple[str, str]]:
    """The CFDI's CfdiRelacionados as (TipoRelacion, UUID in capitals) pairs."""
    root = etree.fromstring(xml, parser=_PARSER)
    namespace = etree.QName(root).namespace
    return {
        (group.get("TipoRelacion", ""), (related.get("UUID") or "").upper())
        for group in root.iterfind(f"{{{namespace}}}CfdiRelacionados")
        for related in group.iterfind(f"{{{namespace}}}CfdiRelacionado")
    }
