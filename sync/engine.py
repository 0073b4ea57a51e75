"""The sync engine: one run of one connection, from its cursor to the source's end.

**Never two runs of a connection at once.** The lock is a lease on the connection row
(``lease_run``, ``lease_expires_at``), taken under ``select_for_update`` and extended by a
heartbeat after every page and while waiting to retry. It holds across workers on any number of
machines because it lives in the database they share, and it expires by itself: a run whose
worker died stops beating, its lease lapses after ``SYNC_LEASE_SECONDS``, and the next run
marks it failed with an event and goes on. A run that finds a live lease is recorded as
skipped. (A Postgres advisory lock would hold as well, but it dies with the worker's database
session, leaving no trace to report, and it does not exist on the embedded SQLite.)

**Nothing half written.** Each page is written in one transaction together with its events, the
run's counts and the connection's cursor, so the cursor advances only when its page is written;
a run that fails keeps every page written before the failure and the next run continues from
there. A source that answers 5xx, times out or sends garbage (``SourceUnavailable``) is
retried with backoff (``SYNC_SOURCE_ATTEMPTS``, ``SYNC_RETRY_BASE_SECONDS`` doubling), then ends
the run as failed with the reason; a refusal (``SourceRefused``) ends it at once.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from erp.bulk import as_json

from .connectors import get_connector
from .connectors.base import EventDraft, Outcome, SourceRefused, SourceUnavailable
from .models import Connection, Event, Run

logger = logging.getLogger(__name__)

NO_CHANGES = "Sin cambios"
SKIPPED_MESSAGE = "Ya hay una sincronización en curso de esta conexión; esta ejecución se omitió."
DEAD_MESSAGE = (
    "La ejecución #{run} dejó de dar señales (el proceso que la ejecutaba terminó); se marcó como "
    "fallida. Lo ya escrito se conserva y la siguiente ejecución continúa desde ahí."
)


class LeaseLost(Exception):
    """Another run declared this one dead and took the connection."""


def _lease_seconds() -> float:
    return float(getattr(settings, "SYNC_LEASE_SECONDS", 120))


_EVENT_COLUMNS = "company_id, connection_id, run_id, at, level, message, record_key, record_model, record_id"


def record_events(*, run: Run | None, connection: Connection, drafts: list[EventDraft]) -> None:
    """Write a page's events at once. On Postgres one ``INSERT … SELECT`` from a single JSON
    parameter whatever their number (``erp.bulk``: no row objects, no parameter per value: a
    page of 1,000 created customers writes 1,000 events); elsewhere ``bulk_create``. Connectors
    never call it: they return the drafts in their ``Outcome`` and the engine writes them with
    the page."""
    if not drafts:
        return
    now = timezone.now()
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Event._meta.db_table} ({_EVENT_COLUMNS}) "
                "SELECT %s, %s, %s, %s, x->>0, x->>1, x->>2, x->>3, (x->>4)::bigint "
                "FROM jsonb_array_elements(%s::jsonb) AS x",
                [
                    connection.company_id,
                    connection.pk,
                    run.pk if run is not None else None,
                    now,
                    as_json(
                        [[d.level, d.message, d.record_key[:60], d.record_model, d.record_id] for d in drafts]
                    ),
                ],
            )
        return
    Event.objects.bulk_create(
        [
            Event(
                company_id=connection.company_id,
                connection=connection,
                run=run,
                level=d.level,
                message=d.message,
                record_key=d.record_key[:60],
                record_model=d.record_model,
                record_id=d.record_id,
                at=now,
            )
            for d in drafts
        ],
        batch_size=1000,
    )


def _finish(run: Run, result: str, message: str, level: str | None = None) -> None:
    """The run's one terminal transition (running or pending → done)."""
    with transaction.atomic():
        now = timezone.now()
        Run.objects.filter(pk=run.pk).exclude(status=Run.Status.DONE).update(
            status=Run.Status.DONE, result=result, finished_at=now, message=message[:500]
        )
        if level:
            record_events(run=run, connection=run.connection, drafts=[EventDraft(level, message)])
    run.refresh_from_db()


def _mark_dead(holder: Run) -> None:
    message = DEAD_MESSAGE.format(run=holder.pk)
    _finish(holder, Run.Result.FAILED, message, "error")


def _take_lease(run: Run) -> bool:
    """Take the connection for ``run``; False when another run holds a live lease (then this
    run is recorded as skipped). A holder whose lease lapsed is marked failed first."""
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=run.connection_id)
        now = timezone.now()
        holder_id = connection.lease_run_id
        if holder_id and holder_id != run.pk:
            if connection.lease_expires_at and connection.lease_expires_at > now:
                _finish(run, Run.Result.SKIPPED, SKIPPED_MESSAGE, "info")
                return False
            holder = Run.objects.select_related("connection").get(pk=holder_id)
            if holder.status != Run.Status.DONE:
                _mark_dead(holder)
        connection.lease_run = run
        connection.lease_expires_at = now + timedelta(seconds=_lease_seconds())
        connection.save(update_fields=["lease_run", "lease_expires_at"])
        Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING, started_at=now, heartbeat_at=now)
    run.refresh_from_db()
    return True


def _heartbeat(run: Run) -> None:
    now = timezone.now()
    held = Connection.objects.filter(pk=run.connection_id, lease_run=run).update(
        lease_expires_at=now + timedelta(seconds=_lease_seconds())
    )
    if not held:
        raise LeaseLost
    Run.objects.filter(pk=run.pk).update(heartbeat_at=now)


def _release(run: Run) -> None:
    Connection.objects.filter(pk=run.connection_id, lease_run=run).update(
        lease_run=None, lease_expires_at=None
    )


def _read(connector, cursor: str, run: Run):
    attempts = max(1, int(getattr(settings, "SYNC_SOURCE_ATTEMPTS", 3)))
    delay = float(getattr(settings, "SYNC_RETRY_BASE_SECONDS", 2))
    for attempt in range(1, attempts + 1):
        try:
            return connector.read_page(cursor)
        except SourceUnavailable as error:
            if attempt == attempts:
                raise
            record_events(
                run=run,
                connection=run.connection,
                drafts=[
                    EventDraft(
                        "warning",
                        f"{error} Se reintenta en {delay:g} s (intento {attempt + 1} de {attempts}).",
                    )
                ],
            )
            _heartbeat(run)
            time.sleep(delay)
            delay = min(delay * 2, _lease_seconds() / 2)
    raise AssertionError("unreachable")


def _write(connector, page, run: Run) -> Outcome:
    with transaction.atomic():
        _heartbeat(run)
        outcome = connector.write_page(page)
        Connection.objects.filter(pk=run.connection_id).update(cursor=page.cursor)
        Run.objects.filter(pk=run.pk).update(
            **{name: F(name) + getattr(outcome, name) for name in Outcome.COUNTS}
        )
        record_events(run=run, connection=run.connection, drafts=outcome.events)
    return outcome


def _after_pages(connector, run: Run) -> None:
    """The connector's work after its pages committed (no lock held while it calls its source),
    recorded like a page: counts and events in one transaction."""
    outcome = connector.after_pages()
    if not (outcome.events or any(getattr(outcome, name) for name in Outcome.COUNTS)):
        return
    with transaction.atomic():
        _heartbeat(run)
        Run.objects.filter(pk=run.pk).update(
            **{name: F(name) + getattr(outcome, name) for name in Outcome.COUNTS}
        )
        record_events(run=run, connection=run.connection, drafts=outcome.events)


def summary(run: Run) -> str:
    return (
        f"Creados {run.created}, actualizados {run.updated}, desactivados {run.deactivated}, "
        f"sin cambios {run.unchanged}, con error {run.failed}."
    )


def execute_run(*, run_id: int) -> Run:
    """Run a queued run to its end. Safe to call twice: a finished run is left as it is, and a
    run found already started (its task redelivered after its worker died) is not resumed: once
    its lease lapses it is marked failed, and the next run continues from the cursor."""
    run = Run.objects.select_related("connection", "company").get(pk=run_id)
    if run.status == Run.Status.DONE:
        return run
    if run.status == Run.Status.RUNNING:
        connection = run.connection
        if connection.lease_run_id != run.pk or (
            connection.lease_expires_at and connection.lease_expires_at <= timezone.now()
        ):
            _mark_dead(run)
            _release(run)
        return run
    if not _take_lease(run):
        return run
    connection = run.connection
    connector = None
    try:
        connector = get_connector(connection.kind)(connection)
        cursor = connection.cursor
        while True:
            page = _read(connector, cursor, run)
            _write(connector, page, run)
            cursor = page.cursor
            if not page.has_more:
                break
        _after_pages(connector, run)
    except LeaseLost:
        logger.warning("Sync run %s lost its lease; another run took the connection.", run.pk)
        return run
    except SourceRefused as error:
        _finish(run, Run.Result.FAILED, str(error), "error")
    except SourceUnavailable as error:
        _finish(
            run,
            Run.Result.FAILED,
            f"{error} La sincronización terminó sin completarse; lo ya escrito se conserva.",
            "error",
        )
    except Exception as error:  # a bug or a broken configuration: the run must still end
        logger.exception("Sync run %s failed", run.pk)
        _finish(run, Run.Result.FAILED, f"Error inesperado en la sincronización: {error}", "error")
    else:
        run.refresh_from_db()
        if run.created + run.updated + run.deactivated + run.failed == 0:
            _finish(run, Run.Result.SUCCESS, NO_CHANGES, "info")
        else:
            result = Run.Result.PARTIAL if run.failed else Run.Result.SUCCESS
            _finish(run, result, summary(run), "warning" if run.failed else "info")
    finally:
        if connector is not None:
            connector.close()
        _release(run)
    return run


def reap_dead_runs() -> int:
    """Mark failed the runs whose lease lapsed with no next run to notice (the retention task
    calls this); returns how many."""
    now = timezone.now()
    count = 0
    for connection in Connection.objects.filter(lease_run__isnull=False, lease_expires_at__lt=now):
        with transaction.atomic():
            locked = Connection.objects.select_for_update().get(pk=connection.pk)
            if not (locked.lease_run_id and locked.lease_expires_at and locked.lease_expires_at < now):
                continue
            holder = Run.objects.select_related("connection").get(pk=locked.lease_run_id)
            if holder.status != Run.Status.DONE:
                _mark_dead(holder)
                count += 1
            locked.lease_run = None
            locked.lease_expires_at = None
            locked.save(update_fields=["lease_run", "lease_expires_at"])
    return count


def start_scheduled_run(*, connection_id: int) -> Run | None:
    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        return None  # disabled or deleted after beat read its schedule
    return Run.objects.create(
        company_id=connection.company_id, connection=connection, trigger=Run.Trigger.SCHEDULE
    )


def purge_old_events(*, days: int | None = None) -> int:
    """Delete events older than the retention (``SYNC_EVENT_RETENTION_DAYS``, 90 by default) and
    the finished runs left with none; also reap runs whose worker died unnoticed."""
    days = days if days is not None else int(getattr(settings, "SYNC_EVENT_RETENTION_DAYS", 90))
    limit = timezone.now() - timedelta(days=days)
    reap_dead_runs()
    deleted, _ = Event.objects.filter(at__lt=limit).delete()
    Run.objects.filter(status=Run.Status.DONE, finished_at__lt=limit, events__isnull=True).delete()
    return deleted
