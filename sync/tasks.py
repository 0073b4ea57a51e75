"""Celery tasks of the sync engine: thin, they take ids and call the engine. All go to the
``sync`` queue; the schedules are the periodic tasks ``sync.services`` keeps per connection."""

from celery import shared_task

from .engine import execute_run, purge_old_events, start_scheduled_run

SYNC_QUEUE = "sync"


@shared_task(acks_late=True, queue=SYNC_QUEUE)
def run_connection_task(run_id: int) -> str:
    """Execute a queued run (manual or API). Safe twice: see ``execute_run``."""
    return execute_run(run_id=run_id).result


@shared_task(acks_late=True, queue=SYNC_QUEUE)
def run_scheduled_connection_task(connection_id: int) -> str | None:
    run = start_scheduled_run(connection_id=connection_id)
    return execute_run(run_id=run.pk).result if run else None


@shared_task(acks_late=True, queue=SYNC_QUEUE)
def purge_sync_events_task() -> int:
    return purge_old_events()
