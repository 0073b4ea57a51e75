"""Celery tasks of the CFDI engine: stamp → PDF → e-mail. Thin and idempotent: they take ids,
call a service, and can run twice (a redelivered stamp asks the PAC again with the same sealed
CFDI and records its 307 answer). Only an unreachable PAC or mail server is retried, with
exponential backoff; a refusal is recorded on the document and stays there until "Sellar"."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from erp.errors import DomainError

from . import services
from .models import CfdiDocument

logger = logging.getLogger(__name__)

STAMPING_QUEUE = "stamping"
DOCUMENTS_QUEUE = "documents"


def backoff_seconds(retries: int) -> float:
    """2, 4, 8, ... seconds (settings.CFDI_RETRY_BASE_SECONDS), capped at CFDI_RETRY_MAX_SECONDS."""
    base = float(getattr(settings, "CFDI_RETRY_BASE_SECONDS", 2))
    ceiling = float(getattr(settings, "CFDI_RETRY_MAX_SECONDS", 600))
    return min(base * (2**retries), ceiling)


def retry_later(task, error: DomainError):
    """Retry ``task`` after a backoff, or give up (the error stays recorded) when run eagerly or
    when the retries are spent. Returns the exception to raise, or None to stop."""
    if task.request.is_eager or task.request.retries >= task.max_retries:
        logger.warning("%s gave up: %s %s", task.name, error.code, error.message)
        return None
    return task.retry(exc=error, countdown=backoff_seconds(task.request.retries), throw=False)


def deliver(document_id: int) -> None:
    """Hand a stamped CFDI to the documents queue (PDF, then e-mail)."""
    render_pdf_task.apply_async(args=[document_id], queue=DOCUMENTS_QUEUE)


@shared_task(bind=True, acks_late=True, queue=STAMPING_QUEUE, max_retries=30)
def stamp_cfdi_task(self, document_id: int) -> str | None:
    """Stamp a sealed CFDI and deliver it."""
    try:
        document = services.stamp_cfdi(document=CfdiDocument.objects.get(pk=document_id))
    except services.PacUnreachable as error:
        retry = retry_later(self, error)
        if retry is not None:
            raise retry from error
        return None
    except DomainError as error:
        logger.warning("CFDI %s not stamped: %s %s", document_id, error.code, error.message)
        return None
    deliver(document.pk)
    return document.uuid


@shared_task(bind=True, acks_late=True, queue=DOCUMENTS_QUEUE, max_retries=5)
def render_pdf_task(self, document_id: int, send: bool = True) -> str | None:
    """Render and store the PDF of a stamped CFDI, then e-mail it if the company wants so."""
    try:
        document = services.render_cfdi_pdf(document=CfdiDocument.objects.defer("xml").get(pk=document_id))
    except DomainError as error:
        logger.warning("PDF of CFDI %s not rendered: %s", document_id, error.message)
        return None
    if send and services.wants_email(document) and not document.emailed_at:
        send_cfdi_task.apply_async(args=[document.pk], queue=DOCUMENTS_QUEUE)
    return document.pdf.name


@shared_task(bind=True, acks_late=True, queue=DOCUMENTS_QUEUE, max_retries=10)
def send_cfdi_task(self, document_id: int) -> str | None:
    """E-mail the XML and PDF to the receiver (once: a CFDI already sent is not sent again)."""
    try:
        document = services.send_cfdi(document=CfdiDocument.objects.defer("xml").get(pk=document_id))
    except services.MailUnavailable as error:
        retry = retry_later(self, error)
        if retry is not None:
            raise retry from error
        return None
    except DomainError as error:  # no address, or an address refused: recorded on the document
        logger.info("CFDI %s not e-mailed: %s", document_id, error.message)
        return None
    return document.emailed_to


@shared_task(bind=True, acks_late=True, queue=STAMPING_QUEUE, max_retries=30)
def cancel_cfdi_task(self, document_id: int, motive: str, substitute_uuid: str = "") -> str | None:
    """Ask SAT, through the PAC, to cancel a stamped CFDI (idempotent: a CFDI cancelled or
    awaiting the receiver is left as is). Retried while the PAC is unreachable."""
    document = CfdiDocument.objects.defer("xml").get(pk=document_id)
    try:
        return services.cancel_cfdi(
            document=document, motive=motive, substitute_uuid=substitute_uuid
        ).cancellation_status
    except services.PacUnreachable as error:
        retry = retry_later(self, error)
        if retry is not None:
            raise retry from error
        return None
    except DomainError as error:
        logger.warning("CFDI %s not cancelled: %s %s", document_id, error.code, error.message)
        return None


@shared_task(acks_late=True, queue=STAMPING_QUEUE)
def refresh_cancellation_task(document_id: int) -> str:
    """Ask the PAC how a requested cancellation stands."""
    document = services.refresh_cancellation(document=CfdiDocument.objects.defer("xml").get(pk=document_id))
    return document.cancellation_status


@shared_task(acks_late=True, queue=STAMPING_QUEUE)
def refresh_pending_cancellations_task() -> int:
    """Periodic (settings.CELERY_BEAT_SCHEDULE): ask about every cancellation awaiting the receiver."""
    pending = list(
        CfdiDocument.objects.filter(cancellation_status=CfdiDocument.Cancellation.REQUESTED).values_list(
            "pk", flat=True
        )
    )
    for document_id in pending:
        refresh_cancellation_task.apply_async(args=[document_id], queue=STAMPING_QUEUE)
    return len(pending)
