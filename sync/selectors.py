"""Reads of the sync engine shared by the API and the event viewer."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from erp.roles import companies_with_perm

from .models import Connection, CustomerImport, Event, Run

VIEWER_DEFAULT_DAYS = 7


def connections_for(user) -> QuerySet[Connection]:
    return Connection.objects.filter(
        company__in=companies_with_perm(user, "sync.view_connection")
    ).select_related("company", "lease_run")


def runs_for(user) -> QuerySet[Run]:
    return Run.objects.filter(company__in=companies_with_perm(user, "sync.view_run")).select_related(
        "connection"
    )


def events_for(user) -> QuerySet[Event]:
    return Event.objects.filter(company__in=companies_with_perm(user, "sync.view_event")).select_related(
        "connection", "run"
    )


def _day_start(value: date) -> datetime:
    return timezone.make_aware(datetime.combine(value, time.min))


def filter_events(
    events: QuerySet[Event],
    *,
    connection: int | None = None,
    level: str | None = None,
    run: int | None = None,
    since: date | None = None,
    until: date | None = None,
    text: str = "",
) -> QuerySet[Event]:
    """The viewer's filters (the API's too). ``since``/``until`` are whole days, both included."""
    if connection:
        events = events.filter(connection_id=connection)
    if level:
        events = events.filter(level=level)
    if run:
        events = events.filter(run_id=run)
    if since:
        events = events.filter(at__gte=_day_start(since))
    if until:
        events = events.filter(at__lt=_day_start(until + timedelta(days=1)))
    if text:
        events = events.filter(Q(message__icontains=text) | Q(record_key__icontains=text))
    return events.order_by("-at", "-pk")


def default_since() -> date:
    return timezone.localdate() - timedelta(days=VIEWER_DEFAULT_DAYS - 1)


def viewer_url(connection: Connection) -> str:
    """The seed's "Visor de eventos" button: the viewer filtered to this connection, last 7 days."""
    return f"{reverse('sync:events')}?connection={connection.pk}&since={default_since().isoformat()}"


def last_runs(connection_ids: list[int]) -> dict[int, Run]:
    """The newest run of each connection (one query)."""
    newest = (
        Run.objects.filter(connection=OuterRef("connection_id"))
        .order_by("-queued_at", "-pk")
        .values("pk")[:1]
    )
    runs = Run.objects.filter(connection_id__in=connection_ids, pk=Subquery(newest))
    return {run.connection_id: run for run in runs}


def next_run_at(connection: Connection, last_run: Run | None) -> datetime | None:
    """When beat will next start the connection: its interval after the last time it ran."""
    if not connection.enabled:
        return None
    task = PeriodicTask.objects.filter(name=connection.task_name).only("last_run_at", "date_changed").first()
    if task is None:
        return None
    base = task.last_run_at or (last_run.queued_at if last_run else None) or task.date_changed
    return base + timedelta(minutes=connection.period_minutes)


def imports_for(user) -> QuerySet[CustomerImport]:
    return CustomerImport.objects.filter(
        company__in=companies_with_perm(user, "sync.view_customerimport")
    ).select_related("connection")
