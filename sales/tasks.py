"""Celery tasks of sales: thin, idempotent, they take ids and call services."""

import logging

from celery import shared_task

from cfdi.services import PacUnreachable
from cfdi.tasks import STAMPING_QUEUE, deliver, retry_later
from erp.errors import DomainError

from .document_models import SalesDocument
from .invoice_cfdi import record_cfdi_error, seal_invoice

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, queue=STAMPING_QUEUE, max_retries=30)
def seal_invoice_task(self, invoice_id: int) -> str | None:
    """Map, seal and stamp an invoice's CFDI, then hand it to the CFDI engine's delivery (PDF,
    e-mail). Safe to run twice: the sealed CFDI is stored before the PAC is called, so a
    redelivered task sends the same CFDI and records the PAC's 307 (the first stamp). An
    unreachable PAC is retried with backoff; a refusal stays recorded on the invoice."""
    invoice = SalesDocument.objects.select_related("company", "customer").get(pk=invoice_id)
    try:
        document = seal_invoice(invoice=invoice)
    except PacUnreachable as error:
        retry = retry_later(self, error)
        if retry is not None:
            raise retry from error
        return None
    except DomainError as error:
        logger.warning("CFDI de la factura %s no timbrado: %s %s", invoice_id, error.code, error.message)
        return None
    try:
        deliver(document.pk)
    except Exception:  # the CFDI is stamped; its PDF and mail are asked again by «Sellar»
        logger.exception("Entrega del CFDI %s no encolada", document.pk)
    return document.uuid


def request_seal(invoice_id: int) -> None:
    """Ask for the invoice's CFDI after its posting committed (path E). Nothing that happens here
    turns the committed posting into an error: a broker that is down, or a failure of the task
    itself when it runs in-process, is recorded on the invoice, where «Sellar» retries it."""
    try:
        seal_invoice_task.delay(invoice_id)
    except Exception as error:
        logger.exception("Sellado de la factura %s no encolado", invoice_id)
        record_cfdi_error(
            invoice_id=invoice_id,
            code="sellado_no_encolado",
            message=f"No se pudo solicitar el sellado ({type(error).__name__}); use «Sellar» para reintentar.",
        )


# The autodiscovered module registers the tasks of the sales sub-packages with the worker.
from .global_invoice.tasks import issue_due_global_invoices_task  # noqa: E402, F401
