"""The seed's "Sellar Factura": issue an invoice's CFDI through the CFDI engine.

Posting an invoice asks for it after commit; "Sellar" asks again for one whose sealing failed.
A failure is kept on the invoice (SAT's code and message) until a later attempt succeeds.
"""

import logging
from functools import partial

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cfdi.models import CfdiDocument, Csd
from cfdi.selectors import cfdi_columns
from cfdi.services import (
    cancel_cfdi,
    issue_cfdi,
    refuse_what_sat_would,
    send_cfdi,
    stamp_cfdi,
    validate_cancellation,
)
from cfdi.tasks import cancel_cfdi_task, deliver
from erp.errors import DomainError

from .cfdi_mapping import SOURCE_MODEL, fiscal_document_for, substitute_uuid_for
from .document_models import DocumentKind, DocumentStatus, SalesDocument
from .documents import blank_uso_cfdi
from .external_models import ExternalCfdi

logger = logging.getLogger(__name__)


def sealing_csds(company) -> QuerySet:
    """The company's CSDs that can seal now (``company`` may be an ``OuterRef``)."""
    return Csd.objects.filter(company=company, active=True, valid_to__gt=timezone.now())


def company_can_seal(company) -> bool:
    return sealing_csds(company).exists()


def check_invoice_for_sat(*, invoice: SalesDocument, payment_form: str | None = None) -> None:
    """The CFDI this invoice would get, checked against every SAT rule the engine knows before the
    invoice is numbered and posted (``payment_form``: the collections' form, not written yet).
    Data the builder cannot carry (text stored before it was checked, say) is refused the same way:
    nothing is posted that could not get its CFDI."""
    try:
        document = fiscal_document_for(invoice, payment_form=payment_form)
        refuse_what_sat_would(company=invoice.company, document=document)
    except ValueError as error:
        raise DomainError(
            "cfdi_no_generado", f"No se pudo generar el CFDI: {str(error)[:300]}. Corrija los datos."
        ) from error


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
        elif not invoice.customer_uso_cfdi:
            raise blank_uso_cfdi(invoice.customer_rfc)
        else:
            document = issue_cfdi(
                company=invoice.company,
                document=fiscal_document_for(invoice),
                source_model=SOURCE_MODEL,
                source_id=invoice.pk,
            )
    except DomainError as error:
        record_cfdi_error(invoice_id=invoice.pk, code=error.code, message=error.message)
        raise
    except Exception as error:
        # Data the builder cannot carry (text stored before it was checked, say) or a fault of the
        # engine: kept on the invoice like a refusal, so it shows and «Sellar» can retry it once
        # corrected, instead of a server error after the posting committed.
        logger.exception("CFDI de la factura %s no generado", invoice.pk)
        message = f"No se pudo generar el CFDI: {str(error)[:300]}. Corrija los datos y use «Sellar»."
        record_cfdi_error(invoice_id=invoice.pk, code="cfdi_no_generado", message=message)
        raise DomainError("cfdi_no_generado", message, status=409) from error
    SalesDocument.objects.filter(pk=invoice.pk).update(cfdi_error="")
    return document


def record_cfdi_error(*, invoice_id: int, code: str, message: str) -> None:
    """Keep why the invoice has no CFDI (shown in its cfdi_error until a later attempt succeeds).
    One UPDATE outside any lock, so it is safe from a task, after a commit, or twice."""
    SalesDocument.objects.filter(pk=invoice_id).update(cfdi_error=f"{code}: {message}"[:1000])


# -- Delivery and cancellation (issue 6) -------------------------------------------------------


def seal_and_deliver(*, invoice: SalesDocument) -> CfdiDocument:
    """ "Sellar": seal and stamp now, then print and e-mail in the background (after commit)."""
    linked = ExternalCfdi.objects.filter(invoice=invoice).values_list("uuid", flat=True).first()
    if linked:
        raise DomainError(
            "factura_con_cfdi_externo",
            f"La factura está enlazada al CFDI externo {linked}: no se sella otro.",
            status=409,
        )
    document = seal_invoice(invoice=invoice)
    if not document.pdf:
        transaction.on_commit(partial(deliver, document.pk), robust=True)
    return document


def stamped_cfdi(invoice: SalesDocument) -> CfdiDocument:
    """The invoice's stamped CFDI, or a DomainError the user can act on."""
    document = invoice_cfdi(invoice)
    if document is None or document.status != CfdiDocument.Status.STAMPED:
        raise DomainError(
            "factura_sin_cfdi", "La factura no tiene un CFDI timbrado: use «Sellar» primero.", status=409
        )
    return document


def send_invoice_cfdi(*, invoice: SalesDocument, to: list[str] | None = None) -> CfdiDocument:
    """ "Enviar XML y PDF": to the given addresses or the customer's e-mail, now."""
    return send_cfdi(document=stamped_cfdi(invoice), to=to or None, force=True)


def check_invoice_cfdi_cancellation(
    *, invoice: SalesDocument, motive: str, substitute_uuid: str = ""
) -> CfdiDocument | None:
    """Rule 6, inside the cancellation's transaction: refuse now (Spanish DomainError, e.g. motive
    01 without the substitute UUID) what the PAC would be asked later. None: no stamped CFDI."""
    document = invoice_cfdi(invoice)
    if document is None or document.status != CfdiDocument.Status.STAMPED:
        return None
    substitute_uuid = substitute_uuid_for(invoice=invoice, motive=motive, given=substitute_uuid)
    validate_cancellation(document=document, motive=motive, substitute_uuid=substitute_uuid)
    return document


def request_invoice_cfdi_cancellation(
    *, invoice: SalesDocument, motive: str, substitute_uuid: str = ""
) -> CfdiDocument | None:
    """Rule 6 from inside ``transaction.atomic``: checks now, asks the PAC after commit (a Celery
    task, retried while the PAC is unreachable), so no row lock is held during the call."""
    substitute_uuid = substitute_uuid_for(invoice=invoice, motive=motive, given=substitute_uuid)
    document = check_invoice_cfdi_cancellation(
        invoice=invoice, motive=motive, substitute_uuid=substitute_uuid
    )
    if document is not None:
        transaction.on_commit(
            partial(cancel_cfdi_task.delay, document.pk, motive, substitute_uuid or ""), robust=True
        )
    return document


def cancel_invoice_cfdi(
    *, invoice: SalesDocument, motive: str, substitute_uuid: str = ""
) -> CfdiDocument | None:
    """Cancellation rule 6: the invoice's stamped CFDI is cancelled before SAT with ``motive``
    (01 needs ``substitute_uuid``). None when the invoice never got a stamped CFDI (nothing
    reached SAT). The stamped XML stays stored; the status is tracked on the CFDI."""
    document = invoice_cfdi(invoice)
    if document is None or document.status != CfdiDocument.Status.STAMPED:
        return None
    substitute_uuid = substitute_uuid_for(invoice=invoice, motive=motive, given=substitute_uuid)
    return cancel_cfdi(document=document, motive=motive, substitute_uuid=substitute_uuid)
