"""Celery tasks of customer payments: thin, idempotent, they take ids and call services."""

import logging

from celery import shared_task

from cfdi.services import PacUnreachable
from cfdi.tasks import STAMPING_QUEUE, deliver, retry_later
from erp.errors import DomainError

from .complement import issue_complement
from .models import CustomerPayment

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, queue=STAMPING_QUEUE, max_retries=30)
def issue_complement_task(self, payment_id: int) -> str | None:
    """Issue a posted payment's complement, then hand it to the CFDI engine's delivery (PDF,
    e-mail). Safe to run twice: the sealed complement is stored before the PAC is called, so a
    redelivered task stamps that same CFDI. An unreachable PAC is retried with backoff; a refusal
    stays recorded on the payment (``cfdi_error``) and in the list of missing complements."""
    payment = CustomerPayment.objects.get(pk=payment_id)
    try:
        document = issue_complement(payment=payment)
    except PacUnreachable as error:
        retry = retry_later(self, error)
        if retry is not None:
            raise retry from error
        return None
    except DomainError as error:
        logger.warning("Complemento del pago %s no timbrado: %s %s", payment_id, error.code, error.message)
        return None
    deliver(document.pk)
    return document.uuid
