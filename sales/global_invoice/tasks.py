"""Celery tasks of the global invoice: thin, idempotent, they call services."""

import logging

from celery import shared_task

from cfdi.tasks import STAMPING_QUEUE

from .services import issue_due_global_invoices

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, queue=STAMPING_QUEUE)
def issue_due_global_invoices_task() -> list[int]:
    """Daily (CELERY_BEAT_SCHEDULE): each entity that issues its global invoice automatically gets
    the one of the period that ended yesterday. Safe to run twice: tickets already in a global
    invoice are not taken again."""
    issued = issue_due_global_invoices()
    if issued:
        logger.info("Facturas globales emitidas: %s", issued)
    return issued
