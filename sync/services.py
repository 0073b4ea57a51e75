"""Writes of the sync engine: connections (kept in step with their beat schedule) and run
requests. Runs themselves are executed, and old events purged, by ``sync.engine``."""

from __future__ import annotations

import json
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from erp.errors import DomainError
from erp.transactions import business_action

from .connectors.customer_file import build_preview, file_sha256
from .models import Connection, CustomerImport, Run
from .tasks import SYNC_QUEUE, run_connection_task

SCHEDULED_TASK = "sync.tasks.run_scheduled_connection_task"
PREVIEW_REUSE_MINUTES = 60
CONFIG_FIELDS = ["kind", "name", "enabled", "period_minutes", "options"]


def _keep_schedule(connection: Connection) -> None:
    """Exactly one periodic task per enabled connection, none for a disabled one."""
    if not connection.enabled:
        PeriodicTask.objects.filter(name=connection.task_name).delete()
        return
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=connection.period_minutes, period=IntervalSchedule.MINUTES
    )
    PeriodicTask.objects.update_or_create(
        name=connection.task_name,
        defaults={
            "interval": interval,
            "task": SCHEDULED_TASK,
            "args": json.dumps([connection.pk]),
            "queue": SYNC_QUEUE,
            "enabled": True,
            "description": f"Sincronización «{connection.name}» cada {connection.period_minutes} min.",
        },
    )


@business_action
def save_connection(*, connection: Connection, credentials: str | None = None) -> Connection:
    """Validate (period, options per kind) and save a connection, and keep its schedule in step.
    ``credentials`` replaces the stored secret when given; None keeps it."""
    if credentials is not None:
        connection.credentials = credentials
    connection.full_clean()
    if connection.pk is None:
        connection.save()
    else:
        # The engine owns the cursor and the lease: a form loaded before a run must not undo them.
        fields = [*CONFIG_FIELDS, *(["credentials"] if credentials is not None else [])]
        connection.save(update_fields=fields)
    _keep_schedule(connection)
    return connection


@business_action
def set_connection_enabled(*, connection: Connection, enabled: bool) -> Connection:
    connection.enabled = enabled
    connection.save(update_fields=["enabled"])
    _keep_schedule(connection)
    return connection


@business_action
def delete_connection(*, connection: Connection) -> None:
    if (
        connection.lease_run_id
        and connection.lease_expires_at
        and connection.lease_expires_at > timezone.now()
    ):
        raise DomainError(
            "sync_en_curso",
            "La conexión se está sincronizando; espere a que termine para eliminarla.",
            status=409,
        )
    PeriodicTask.objects.filter(name=connection.task_name).delete()
    Connection.objects.filter(pk=connection.pk).update(lease_run=None)
    connection.delete()


@business_action
def request_run(*, connection: Connection, trigger: str) -> Run:
    """Queue a run; its task is sent after the commit. "Sincronizar ahora" works on a disabled
    connection too (the schedule is what "Desactivar" stops)."""
    run = Run.objects.create(company_id=connection.company_id, connection=connection, trigger=trigger)
    transaction.on_commit(lambda: run_connection_task.delay(run.pk))
    return run


def preview_customer_file(
    *, connection: Connection, name: str, data, size: int, source: str
) -> CustomerImport:
    """Vista previa: read a customer file and store what it would create, update or refuse;
    no customer is written. The same file (SHA-256) previewed and not applied within the last
    ``PREVIEW_REUSE_MINUTES`` returns that preview, so sending it again to apply it (the API's
    dry run, then the real call) applies exactly what was shown; an older one is read afresh."""
    if connection.kind != Connection.Kind.CUSTOMER_FILE:
        raise DomainError("no_es_archivo", "Esta conexión no importa archivos de clientes.")
    digest = file_sha256(data)
    shown = (
        CustomerImport.objects.filter(
            connection=connection,
            sha256=digest,
            status=CustomerImport.Status.PREVIEW,
            created_at__gte=timezone.now() - timedelta(minutes=PREVIEW_REUSE_MINUTES),
        )
        .order_by("-pk")
        .first()
    )
    if shown is not None:
        return shown
    return build_preview(connection=connection, name=name, data=data, size=size, source=source)


@business_action
def apply_customer_import(*, customer_import: CustomerImport, trigger: str) -> Run:
    """Aplicar: queue the preview's rows, exactly as shown, for a run of the engine (written page
    by page through ``save_customers_batch``); its task is sent after the commit."""
    locked = CustomerImport.objects.select_for_update().get(pk=customer_import.pk)
    if locked.status != CustomerImport.Status.PREVIEW:
        raise DomainError(
            "importacion_no_aplicable",
            f"La importación «{locked.file_name}» ya está {locked.get_status_display().lower()}; "
            "no se aplica dos veces.",
            status=409,
        )
    locked.status = CustomerImport.Status.QUEUED
    locked.save(update_fields=["status"])
    customer_import.status = locked.status
    return request_run(connection=locked.connection, trigger=trigger)
