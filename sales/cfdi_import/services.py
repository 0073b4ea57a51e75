"""Building an invoice from a CFDI stamped elsewhere (the seed's "Enlazar a Factura", B) and the
external files as the invoice's own.

build → a template (``XmlInvoice``) after the seed's checks 1–4, with the header from the XML and
one line per concept whose product code the customer's learned associations fill; update (the
seed's "Actualizar") sets codes and runs the concordance again; accept → the invoice is created
and posted by the same services as a typed one (``create_document``, ``post_invoice``: same books),
linked to the XML instead of stamping a new CFDI, and the codes are learned for the next XML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as date_type
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from django.db.models import Q

from cfdi.mail import cfdi_message, split_addresses
from cfdi.models import CfdiSettings
from cfdi.pdf import render_pdf
from erp.errors import DomainError
from erp.models import Currency
from erp.transactions import business_action
from inventory.models import Product

from ..document_models import DocumentKind, Payment, SalesDocument
from ..documents import UNSET, LineRequest, create_document, prepare_document, resolve_salesperson
from ..external_cfdi import MAX_PDF_BYTES, WRONG_TYPE_MESSAGE
from ..external_models import ExternalCfdi
from ..invoice_cfdi import send_invoice_cfdi
from ..models import COUNTER_CUSTOMER_NUMBER, Customer
from ..posting import Collection, post_invoice
from .concordance import Concordance, run_concordance
from .models import ProductAssociation, XmlInvoice, XmlInvoiceLine
from .xml import XmlInvoiceData, read_invoice_xml

OBSERVATIONS = "Carga desde Factura Electrónica: {uuid}"
DISCOUNT_MESSAGE = (
    "El XML maneja descuentos: por el momento la carga de facturas no soporta descuentos, porque en "
    "el CFDI no se especifica a qué producto(s) aplica cada descuento."
)


def normalized_key(text: str) -> str:
    return " ".join(text.split()).upper()[:1000]


# -- The template ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """The seed's header of the template, derived from the XML and the customer each time."""

    date: date_type
    payment: str
    currency: Currency
    exchange_rate: Decimal
    salesperson: object


def xml_data(external: ExternalCfdi) -> XmlInvoiceData:
    raw = ExternalCfdi.objects.values_list("xml", flat=True).get(pk=external.pk)
    return read_invoice_xml(bytes(raw))


def _currency(data: XmlInvoiceData) -> Currency:
    """The seed: a TipoCambio other than 1 means dollars, none means pesos. A CFDI 3.3/4.0 Moneda
    is a c_Moneda code, so a known one is taken as it is."""
    known = Currency.objects.filter(code=data.currency).first() if data.currency else None
    if known is not None:
        return known
    if data.exchange_rate is not None and data.exchange_rate != 1:
        return Currency.objects.get(code="USD")
    return Currency.objects.get(is_national=True)


def header_for(template: XmlInvoice, data: XmlInvoiceData) -> Header:
    customer = template.customer
    currency = _currency(data)
    if customer.is_counter:
        payment = Payment.CASH
    else:
        payment = Payment.CREDIT if customer.credit_days > 0 else Payment.CASH
    return Header(
        date=datetime.strptime(data.date, "%Y-%m-%d").date(),
        payment=payment,
        currency=currency,
        exchange_rate=Decimal(1) if currency.is_national else (data.exchange_rate or Decimal(1)),
        salesperson=resolve_salesperson(entity=template.external.entity, customer=customer),
    )


def concordance_of(template: XmlInvoice, data: XmlInvoiceData | None = None) -> Concordance:
    data = data or xml_data(template.external)
    products = {line.position: line.product for line in template.lines.select_related("product")}
    decimals = _currency(data).decimals
    return run_concordance(
        entity=template.external.entity,
        customer=template.customer,
        data=data,
        products=products,
        decimals=decimals,
    )


def _check_buildable(external: ExternalCfdi, data: XmlInvoiceData) -> None:
    """The seed's B.2–B.4 (B.1, one XML, is the endpoint's shape: one CFDI per call)."""
    if data.doc_type != "I":
        raise DomainError("cfdi_tipo_incorrecto", WRONG_TYPE_MESSAGE)
    company_rfc = external.company.rfc
    if data.issuer_rfc != company_rfc:
        raise DomainError(
            "cfdi_de_otro_emisor",
            f"El RFC del Emisor del XML ({data.issuer_rfc}) no es el de la compañía ({company_rfc}).",
        )
    if data.discount > 0 or any(c.discount > 0 for c in data.concepts):
        raise DomainError("cfdi_con_descuentos", DISCOUNT_MESSAGE)


def _customer_for(external: ExternalCfdi, receiver_rfc: str) -> Customer:
    found = (
        Customer.objects.filter(entity=external.entity, rfc=receiver_rfc, active=True)
        .exclude(number=COUNTER_CUSTOMER_NUMBER)
        .order_by("number")
        .first()
    )
    return found or Customer.objects.get(entity=external.entity, number=COUNTER_CUSTOMER_NUMBER)


def learned_product(customer: Customer, *, sku: str, description: str) -> Product | None:
    """The product a customer's concept was last accepted as: by its NoIdentificacion first,
    then by its description."""
    lookups = [(ProductAssociation.Kind.DESCRIPTION, normalized_key(description))]
    if sku:
        lookups.insert(0, (ProductAssociation.Kind.SKU, normalized_key(sku)))
    found = {
        (a.kind, a.key): a.product
        for a in ProductAssociation.objects.filter(
            customer=customer, key__in=[key for _, key in lookups]
        ).select_related("product")
    }
    for lookup in lookups:
        product = found.get(lookup)
        if product is not None and product.active:
            return product
    return None


def _already_linked(external: ExternalCfdi) -> DomainError:
    return DomainError("cfdi_ya_enlazado", f"El CFDI ya está enlazado a {external.invoice}.", status=409)


@business_action
def build_xml_invoice(*, external: ExternalCfdi, user=None) -> XmlInvoice:
    """Generar factura desde XML: the template, with its codes filled from what this customer's
    earlier XMLs were accepted as. An open template of this CFDI is returned as it is."""
    external = (
        ExternalCfdi.objects.select_for_update().select_related("company", "entity").get(pk=external.pk)
    )
    if external.invoice_id is not None:
        raise _already_linked(external)
    data = xml_data(external)
    _check_buildable(external, data)
    existing = XmlInvoice.objects.filter(external=external, invoice__isnull=True).first()
    if existing is not None:
        return existing
    customer = _customer_for(external, data.receiver_rfc)
    template = XmlInvoice.objects.create(
        company=external.company,
        external=external,
        customer=customer,
        observations=OBSERVATIONS.format(uuid=external.uuid),
        created_by=user,
    )
    XmlInvoiceLine.objects.bulk_create(
        XmlInvoiceLine(
            template=template,
            position=concept.position,
            product=learned_product(customer, sku=concept.sku, description=concept.description),
            description=concept.description,
        )
        for concept in data.concepts
    )
    return template


def _open(template: XmlInvoice) -> XmlInvoice:
    template = XmlInvoice.objects.select_for_update().select_related("external__entity").get(pk=template.pk)
    if template.invoice_id is not None:
        raise DomainError(
            "plantilla_ya_agregada", f"Esta plantilla ya se agregó como {template.invoice}.", status=409
        )
    return template


@business_action
def update_xml_invoice(
    *, template: XmlInvoice, codes: dict[int, str] | None = None, descriptions: dict[int, str] | None = None,
    reference: str | None = None, observations: str | None = None,
) -> XmlInvoice:  # fmt: skip
    """The seed's "Actualizar": set or change product codes (an empty code clears it), the
    concepts' descriptions, the reference and observations. Unknown codes or partidas change
    nothing."""
    template = _open(template)
    lines = {line.position: line for line in template.lines.all()}
    codes, descriptions = codes or {}, descriptions or {}
    for position in [*codes, *descriptions]:
        if position not in lines:
            raise DomainError("partida_inexistente", f"La plantilla no tiene la partida {position}.")
    wanted = {code for code in codes.values() if code}
    products = {}
    for product in Product.objects.filter(company=template.company, active=True).filter(
        Q(code__in=wanted) | Q(supplier_code__in=wanted)
    ):
        products.setdefault(product.supplier_code, product)
        products[product.code] = product
    for position, code in codes.items():
        if code and code not in products:
            raise DomainError(
                "producto_inexistente", f"No existe el producto o servicio con clave «{code}».", codes=[code]
            )
        lines[position].product = products.get(code) if code else None
    for position, text in descriptions.items():
        if not text.strip():
            raise DomainError(
                "descripcion_vacia", f"Partida {position}: la descripción no puede quedar vacía."
            )
        lines[position].description = text.strip()[:1000]
    XmlInvoiceLine.objects.bulk_update(lines.values(), ["product", "description"])
    fields = []
    if reference is not None:
        template.reference = reference[:60]
        fields.append("reference")
    if observations is not None:
        template.observations = observations
        fields.append("observations")
    if fields:
        template.save(update_fields=fields)
    return template


def _learn(template: XmlInvoice, data: XmlInvoiceData) -> None:
    lines = {line.position: line for line in template.lines.select_related("product")}
    for concept in data.concepts:
        product = lines[concept.position].product
        keys = [(ProductAssociation.Kind.DESCRIPTION, normalized_key(concept.description))]
        if concept.sku:
            keys.append((ProductAssociation.Kind.SKU, normalized_key(concept.sku)))
        for kind, key in keys:
            ProductAssociation.objects.update_or_create(
                customer=template.customer,
                kind=kind,
                key=key,
                defaults={"company": template.company, "product": product},
            )


def _document_request(template: XmlInvoice, data: XmlInvoiceData) -> dict:
    """The invoice the template stands for, as "Agregar Factura" takes it: the XML's quantities
    and prices, no discount, the products' taxes and the entity's IVA."""
    header = header_for(template, data)
    lines = list(template.lines.select_related("product"))
    return {
        "kind": DocumentKind.INVOICE,
        "entity": template.external.entity,
        "customer": template.customer,
        "date": header.date,
        "lines": [
            LineRequest(
                product_code=line.product.code,
                quantity=concept.quantity,
                unit_price=concept.unit_price,
                discount_rate=Decimal(0),
                description=line.description,
            )
            for line, concept in zip(lines, data.concepts, strict=True)
        ],
        "payment": header.payment,
        "currency": header.currency,
        "exchange_rate": header.exchange_rate,
        "reference": template.reference,
        "delivery_date": header.date,
        "salesperson": UNSET,
        "observations": template.observations,
    }


def _refuse_errors(concordance: Concordance) -> None:
    if not concordance.ok:
        raise DomainError(
            "concordancia_con_errores",
            "La concordancia marca errores: corríjalos y actualice antes de agregar la factura.",
            messages=concordance.as_text(),
        )


def preview_xml_invoice(*, template: XmlInvoice):
    """The invoice accepting would add (header, customer data, lines, totals), saving nothing:
    ``prepare_document``'s, as the entry screen's preview. Only without ERRORs."""
    data = xml_data(template.external)
    _refuse_errors(concordance_of(template, data))
    document, lines = prepare_document(**_document_request(template, data))
    document.preview_lines = lines
    return document


@business_action
def accept_xml_invoice(
    *, template: XmlInvoice, collections: list[Collection] | None = None, user=None
) -> SalesDocument:
    """Aceptar: only without ERRORs. The invoice is created and posted like any other (same
    numbering, money, receivable, pólizas, stock exit), linked to the XML (no CFDI is stamped for
    it), and each concept's code is learned for this customer."""
    template = _open(template)
    external = ExternalCfdi.objects.select_for_update().get(pk=template.external_id)
    if external.invoice_id is not None:
        raise _already_linked(external)
    data = xml_data(external)
    _check_buildable(external, data)
    concordance = concordance_of(template, data)
    _refuse_errors(concordance)
    document, _ = create_document(**_document_request(template, data), user=user)
    if document.total != concordance.totals.total:  # one calculation: cannot happen
        raise DomainError("concordancia_con_errores", "El total calculado cambió; actualice la concordancia.")
    external.invoice = document
    external.save(update_fields=["invoice"])
    document = post_invoice(document=document, collections=collections, user=user, seal=False)
    _learn(template, data)
    template.invoice = document
    template.save(update_fields=["invoice"])
    return document


# -- The external files as the invoice's own --------------------------------------------------


def linked_external(invoice: SalesDocument) -> ExternalCfdi | None:
    return ExternalCfdi.objects.filter(invoice=invoice).defer("xml").first()


def external_xml(external: ExternalCfdi) -> bytes:
    return bytes(ExternalCfdi.objects.values_list("xml", flat=True).get(pk=external.pk))


def external_filename(external: ExternalCfdi, extension: str) -> str:
    return f"{external.issuer_rfc}_{external.series}{external.folio}_{external.uuid}.{extension}"


def external_pdf(external: ExternalCfdi) -> bytes:
    """The PDF uploaded with the CFDI; without one, a CFDI 4.0 is printed from its XML."""
    if external.pdf:
        with external.pdf.open("rb") as handle:
            return handle.read()
    if external.version != "4.0":
        raise DomainError(
            "cfdi_externo_sin_pdf",
            "El CFDI externo no tiene PDF: súbalo en «CFDIs externos» para poder descargarlo o enviarlo.",
            status=409,
        )
    return render_pdf(external_xml(external))


@business_action
def attach_external_pdf(*, external: ExternalCfdi, pdf) -> ExternalCfdi:
    """Upload (or replace) the printed PDF of a CFDI stamped elsewhere."""
    if pdf.size > MAX_PDF_BYTES:
        raise DomainError("pdf_muy_grande", f"El PDF pesa más de {MAX_PDF_BYTES // 1024 // 1024} MB.")
    head = pdf.read(5)
    pdf.seek(0)
    if head != b"%PDF-":
        raise DomainError("pdf_invalido", "El archivo no es un PDF.")
    external = ExternalCfdi.objects.select_for_update().get(pk=external.pk)
    external.pdf.save(f"{external.uuid}.pdf", pdf, save=False)
    external.save(update_fields=["pdf"])
    return external


def send_external_cfdi(
    *, invoice: SalesDocument, external: ExternalCfdi, to: list[str] | None = None
) -> None:
    """ "Enviar XML y PDF" of an invoice linked to a CFDI stamped elsewhere: the same message a
    stamped one travels in, with the external XML and PDF."""
    recipients = to or split_addresses(invoice.customer.email)
    if not recipients:
        raise DomainError(
            "cliente_sin_correo",
            "El cliente no tiene correo electrónico registrado: capture uno en su ficha para enviarle "
            "el XML y el PDF.",
            status=409,
        )
    pdf = external_pdf(external)
    options = CfdiSettings.objects.filter(company=invoice.company).first()
    as_document = SimpleNamespace(
        pk=external.pk, series=external.series, folio=external.folio, kind=external.doc_type,
        uuid=external.uuid, issued_at=_issued_at(external), currency=external.currency,
        total=external.total, filename=external_filename(external, "xml"),
        pdf_filename=external_filename(external, "pdf"),
    )  # fmt: skip
    message = cfdi_message(
        document=as_document,
        issuer_name=invoice.company.legal_name,
        xml=external_xml(external),
        pdf=pdf,
        to=recipients,
        note=options.email_note if options else "",
    )
    try:
        message.send(fail_silently=False)
    except OSError as error:
        raise DomainError(
            "correo_no_disponible",
            f"No se pudo enviar el correo (servidor no disponible): {error}",
            status=503,
        ) from error


def send_invoice_files(*, invoice: SalesDocument, to: list[str] | None = None) -> None:
    """ "Enviar XML y PDF" of an invoice: its own stamped CFDI, or the external one linked to it
    (the API and the admin both send through here)."""
    external = linked_external(invoice)
    if external is not None:
        send_external_cfdi(invoice=invoice, external=external, to=to)
    else:
        send_invoice_cfdi(invoice=invoice, to=to)


def _issued_at(external: ExternalCfdi):
    try:
        return datetime.fromisoformat(external.issued_at)
    except ValueError:
        return None
