"""Celery tasks of returns and rebates: thin, idempotent, they take ids and call services."""

import logging

from celery import shared_task

from cfdi.services import PacUnreachable
from cfdi.tasks import STAMPING_QUEUE, deliver, retry_later
from erp.errors import DomainError

from .cfdi import seal_credit_note
from .models import CreditNote

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, queue=STAMPING_QUEUE, max_retries=30)
def seal_credit_note_task(self, credit_note_id: int) -> str | None:
    """Map, seal and stamp a credit note's egreso CFDI, then hand it to delivery (PDF, e-mail).
    Safe to run twice, like the invoice's: the sealed CFDI is stored before the PAC is called."""
    note = CreditNote.objects.get(pk=credit_note_id)
    try:
        document = seal_credit_note(credit_note=note)
    except PacUnreachable as error:
        retry = retry_later(self, error)
        if retry is not None:
            raise retry from error
        return None
    except DomainError as error:
        logger.warning(
            "CFDI de la nota de crédito %s no timbrado: %s %s", credit_note_id, error.code, error.message
        )
        return None
    deliver(document.pk)
    return document.uuid
