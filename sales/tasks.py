"""Celery tasks of sales: thin, idempotent, they take ids and call services."""

import logging

from celery import shared_task

from erp.errors import DomainError

from .document_models import SalesDocument
from .invoice_cfdi import seal_invoice

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def seal_invoice_task(invoice_id: int) -> str | None:
    """Seal and stamp an invoice's CFDI; a refusal stays recorded on the invoice."""
    invoice = SalesDocument.objects.select_related("company").get(pk=invoice_id)
    try:
        return seal_invoice(invoice=invoice).uuid
    except DomainError as error:
        logger.warning("CFDI de la factura %s no timbrado: %s %s", invoice_id, error.code, error.message)
        return None
