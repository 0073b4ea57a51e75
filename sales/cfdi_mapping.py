"""Invoices as the CFDI engine sees them: a plain fiscal description (cfdi knows nothing of sales).

Concept amounts are recomputed by erp.taxes from the same quantities, prices, discounts and rates
the invoice was computed with, so the CFDI's totals equal the invoice's to the cent.
"""

from django.utils import timezone

from cashbank.models import CashMovement
from cfdi.description import Concept, FiscalDocument, Receiver, Related
from cfdi.models import CfdiDocument
from cfdi.sat import CFDI_NS, parse
from cfdi.services import issuer_for
from erp.errors import DomainError

from .document_models import DocumentStatus, Payment, SalesDocument, line_tax_fields

SOURCE_MODEL = "sales.salesdocument"
SUBSTITUTION = "04"  # c_TipoRelacion: sustitución de los CFDI previos (cancellation motive 01)


def stamped_uuid_of(invoice: SalesDocument) -> str:
    """The UUID of the invoice's stamped CFDI ('' when none)."""
    return (
        CfdiDocument.objects.filter(
            source_model=SOURCE_MODEL, source_id=invoice.pk, status=CfdiDocument.Status.STAMPED
        )
        .values_list("uuid", flat=True)
        .first()
        or ""
    )


def related_for(invoice: SalesDocument) -> tuple[Related, ...]:
    """CfdiRelacionados of the invoice: TipoRelacion 04 with the UUID of the invoice it substitutes."""
    if not invoice.substitutes_id:
        return ()
    uuid = stamped_uuid_of(invoice.substitutes)
    if not uuid:
        raise DomainError(
            "sustitucion_sin_cfdi",
            f"La factura {invoice.substitutes} no tiene un CFDI timbrado: no se puede relacionar (04).",
        )
    return (Related(SUBSTITUTION, (uuid,)),)


def relates(cfdi: CfdiDocument, uuid: str, relation_type: str = SUBSTITUTION) -> bool:
    """Whether the CFDI's XML carries CfdiRelacionados of ``relation_type`` with ``uuid``."""
    root = parse(bytes(cfdi.xml))
    for group in root.iterfind(f"{{{CFDI_NS}}}CfdiRelacionados"):
        if group.get("TipoRelacion") == relation_type and any(
            (r.get("UUID") or "").upper() == uuid.upper()
            for r in group.iterfind(f"{{{CFDI_NS}}}CfdiRelacionado")
        ):
            return True
    return False


def _payment_form(invoice: SalesDocument) -> str:
    """c_FormaPago: the method of the largest collection for contado; the customer's usual form
    when there is no payment method (crédito is always 99 with PPD, set by the builder)."""
    if invoice.payment == Payment.CASH:
        largest = (
            CashMovement.objects.filter(origin=invoice.origin_reference, kind=CashMovement.Kind.DEPOSIT)
            .order_by("-document_amount")
            .values_list("method", flat=True)
            .first()
        )
        return largest or "01"
    return invoice.customer.forma_pago


def substitute_uuid_for(*, invoice: SalesDocument, motive: str, given: str = "") -> str:
    """Cancellation motive 01 needs the UUID of the CFDI that substitutes this invoice's. When none
    is given, the live invoice made as its substitute offers its own; a given UUID of one of the
    company's CFDIs must carry TipoRelacion 04 with this invoice's UUID (SAT checks it too)."""
    if motive != "01":
        return given
    original = stamped_uuid_of(invoice)
    if not given:
        for substitute in invoice.substitutions.exclude(status=DocumentStatus.CANCELLED).order_by("-pk"):
            uuid = stamped_uuid_of(substitute)
            if uuid:
                return uuid
        return ""  # the engine refuses motive 01 without a substitute, in its words
    cfdi = CfdiDocument.objects.filter(company=invoice.company_id, uuid__iexact=given.strip()).first()
    if cfdi is not None and original and not relates(cfdi, original):
        raise DomainError(
            "sustituto_sin_relacion",
            f"El CFDI {given.strip().upper()} no sustituye al {original}: no lleva CfdiRelacionados con "
            "TipoRelacion 04 y ese folio fiscal. Emita la factura sustituta desde «Sustituye a».",
        )
    return given


def receiver_for(document, *, place_of_issue: str, uso_cfdi: str = "") -> Receiver:
    """The CFDI's Receptor from the customer data a sales document copied (an invoice or a credit
    note): the counter customer is PUBLICO EN GENERAL at the place of issue."""
    if document.customer.is_counter:
        return Receiver.counter(place_of_issue)
    return Receiver(
        rfc=document.customer_rfc,
        name=document.customer_name,
        postal_code=document.customer_postal_code,
        regimen_fiscal=document.customer_regimen_fiscal,
        uso_cfdi=uso_cfdi or document.customer_uso_cfdi,
        email=document.customer.email,
    )


def concept_for(line) -> Concept:
    """One CFDI concept from an invoice line or a credit-note line, with all its tax fields."""
    return Concept(
        product_key=line.product.sat_product_key,
        unit_key=line.product.sat_unit_key,
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount=line.discount,
        sku=line.code,
        unit=line.unit,
        **line_tax_fields(line),
    )


def concepts_for(lines) -> tuple[Concept, ...]:
    """The concepts of a document's lines (its ``lines`` manager), in order."""
    return tuple(concept_for(line) for line in lines.select_related("product").order_by("position"))


def fiscal_document_for(invoice: SalesDocument, *, payment_form: str | None = None) -> FiscalDocument:
    """The invoice's fiscal description. ``payment_form`` stands in for the collections' form
    when they are not written yet (the SAT rules checked while posting)."""
    company = invoice.company
    place_of_issue = invoice.entity.place_of_issue
    return FiscalDocument(
        issuer=issuer_for(company, place_of_issue=place_of_issue),
        receiver=receiver_for(invoice, place_of_issue=place_of_issue),
        concepts=concepts_for(invoice.lines),
        doc_type="I",
        series=invoice.series,
        folio=str(invoice.number),
        issued_at=timezone.now(),
        credit=invoice.payment == Payment.CREDIT,
        payment_form=payment_form or _payment_form(invoice),
        payment_terms=f"{invoice.customer.credit_days} días" if invoice.payment == Payment.CREDIT else "",
        currency=invoice.currency.code,
        exchange_rate=None if invoice.currency.is_national else invoice.exchange_rate,
        related=related_for(invoice),
    )
