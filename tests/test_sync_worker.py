"""The sync engine on a real Celery worker and beat with a real Redis broker: a connection is
scheduled and its run happens on its own; a worker killed in the middle of a run leaves that
run failed and the next run works."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from erp.models import Role
from sales.models import Customer
from sync.models import Connection, Run
from sync.services import request_run
from tests.factories import user_with_role
from tests.factories_delivery import CeleryWorker, wait_until
from tests.factories_sync import qr_connection, qr_server, receiver
from tests.test_delivery_worker import redis_broker  # noqa: F401 - the broker fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

RFCS = ["IIA040805DZ4", "CACX7605101P8", "MAL840526KN3", "URE180429TM6", "FUNK671228PH6", "AAA010101AA1"]


@pytest.fixture
def processes(redis_broker, tmp_path):  # noqa: F811
    started: list[CeleryWorker] = []

    def start(name: str, command: str = "worker") -> CeleryWorker:
        process = CeleryWorker(
            name,
            broker_url=redis_broker,
            media_root=str(tmp_path),
            log_dir=tmp_path,
            queues="sync",
            command=command,
            env={"SYNC_LEASE_SECONDS": "2", "SYNC_RETRY_BASE_SECONDS": "0.1"},
        )
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.kill()
        if getattr(process, "log", None):
            process.log.close()


def test_beat_starts_the_scheduled_run_and_its_events_are_visible_through_the_api(processes, company, api_as):
    with qr_server([receiver(RFCS[0])]) as server:
        connection = qr_connection(company, server.url, period_minutes=5)
        # The period is 5 minutes at least: the test moves the last run back one period rather
        # than wait for it, so beat finds the connection due when it starts.
        PeriodicTask.objects.filter(name=connection.task_name).update(
            last_run_at=timezone.now() - timedelta(minutes=5, seconds=5)
        )
        worker = processes("sync-w1")
        beat = processes("sync-beat", command="beat")
        run = wait_until(
            lambda: Run.objects.filter(connection=connection, status="done").first(),
            timeout=90,
            message=f"the scheduled run\n{beat.output()[-3000:]}\n{worker.output()[-3000:]}",
        )
    assert (run.trigger, run.result, run.created) == ("schedule", "success", 1)
    ops = user_with_role(company, Role.OPS)
    events = api_as(ops).get("/api/sync/events/", {"connection": connection.pk}).json()["results"]
    assert any(e["record_key"] == RFCS[0] for e in events)


def test_a_worker_killed_mid_run_leaves_a_failed_run_and_the_next_run_works(processes, company):
    with qr_server([receiver(rfc) for rfc in RFCS]) as server:
        server.delay = 0.7  # one receiver per page: the run takes about four seconds
        connection = qr_connection(company, server.url, page_size=1, enabled=False)
        worker = processes("sync-w1")
        first = request_run(connection=connection, trigger=Run.Trigger.API)
        wait_until(
            lambda: Connection.objects.get(pk=connection.pk).cursor not in ("", "1"),
            timeout=60,
            message=f"two pages written\n{worker.output()[-3000:]}",
        )
        worker.kill()
        written = Customer.objects.filter(company=company, rfc__in=RFCS).count()
        time.sleep(2.5)  # the dead run's lease lapses
        processes("sync-w2")
        server.delay = 0
        second = request_run(connection=connection, trigger=Run.Trigger.API)
        wait_until(
            lambda: (
                Run.objects.filter(pk=second.pk, status="done").exists()
                and Run.objects.filter(pk=first.pk, status="done").exists()
            ),
            timeout=60,
            message="both runs finished",
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.result == "failed"
    assert first.events.filter(level="error", message__contains="dejó de dar señales").exists()
    assert second.result == "success"
    assert written >= 2
    assert Customer.objects.filter(company=company, rfc__in=RFCS).count() == len(RFCS)  # none lost or twice
