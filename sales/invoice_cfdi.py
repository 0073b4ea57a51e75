"""The seed's "Sellar Factura": issue an invoice's CFDI through the CFDI engine.

Posting an invoice asks for it after commit; "Sellar" asks again for one whose sealing failed.
A failure is kept on the invoice (SAT's code and message) until a later attempt succeeds.
"""

from django.utils import timezone

from cfdi.models import CfdiDocument, Csd
from cfdi.selectors import cfdi_columns
from cfdi.services import issue_cfdi, stamp_cfdi
from erp.errors import DomainError

from .cfdi_mapping import SOURCE_MODEL, fiscal_document_for
from .document_models import DocumentKind, DocumentStatus, SalesDocument
from .external_models import ExternalCfdi


def company_can_seal(company) -> bool:
    return Csd.objects.filter(company=company, active=True, valid_to__gt=timezone.now()).exists()


def invoice_cfdi(invoice: SalesDocument) -> CfdiDocument | None:
    """The invoice's most advanced CFDI: stamped if any, else the last sealed attempt."""
    documents = CfdiDocument.objects.filter(source_model=SOURCE_MODEL, source_id=invoice.pk)
    return (
        documents.filter(status=CfdiDocument.Status.STAMPED).first()
        or documents.filter(status=CfdiDocument.Status.SEALED).order_by("-pk").first()
    )


def cfdi_column(invoices) -> dict[int, str]:
    """The list's CFDI column (---, TFD, PDF) for these invoices, in two queries: their own CFDIs,
    and CFDIs stamped elsewhere and linked to them."""
    columns = cfdi_columns(SOURCE_MODEL, [invoice.pk for invoice in invoices])
    linked = ExternalCfdi.objects.filter(invoice__in=[invoice.pk for invoice in invoices]).values_list(
        "invoice", "pdf"
    )
    for invoice_id, pdf in linked:
        columns[invoice_id] = "PDF" if pdf else "TFD"
    return columns


def can_seal(invoice: SalesDocument) -> bool:
    return invoice.kind == DocumentKind.INVOICE and invoice.status not in (
        DocumentStatus.DRAFT,
        DocumentStatus.CANCELLED,
    )


def seal_invoice(*, invoice: SalesDocument) -> CfdiDocument:
    """Seal and stamp the invoice's CFDI. Safe to repeat: a stamped CFDI is returned as is, and a
    sealed one that the PAC did not stamp is sent again as it is (the PAC answers a repeat with
    its first stamp), never sealed twice."""
    if not can_seal(invoice):
        raise DomainError(
            "factura_no_sellable",
            f"La factura está {invoice.get_status_display().lower()}: solo se sella una factura agregada.",
            status=409,
        )
    existing = invoice_cfdi(invoice)
    try:
        if existing is not None:
            document = stamp_cfdi(document=existing)
        else:
            document = issue_cfdi(
                company=invoice.company,
                document=fiscal_document_for(invoice),
                source_model=SOURCE_MODEL,
                source_id=invoice.pk,
            )
    except DomainError as error:
        SalesDocument.objects.filter(pk=invoice.pk).update(cfdi_error=f"{error.code}: {error.message}"[:1000])
        raise
    SalesDocument.objects.filter(pk=invoice.pk).update(cfdi_error="")
    return document
