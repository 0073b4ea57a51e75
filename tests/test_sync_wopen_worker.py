"""The Wopen connection on a real Celery worker with a real Redis broker: the run posts the
invoices, the worker stamps them on the stamping queue, the next run reports them back; a worker
killed in the middle of a run leaves every Wopen document once and every invoice stamped once."""

import time

import pytest

from cfdi.models import CfdiDocument
from demo.services import load_demo
from sync.models import Connection, Run, WopenDocument
from sync.services import request_run
from tests.factories_delivery import CeleryWorker, wait_until
from tests.test_delivery_worker import redis_broker  # noqa: F401 - the broker fixture
from tests.test_sync_wopen import document, server, wopen_connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

IDS = ["F-1", "F-2", "F-3", "F-4"]


@pytest.fixture
def processes(redis_broker, tmp_path):  # noqa: F811
    started: list[CeleryWorker] = []

    def start(name: str) -> CeleryWorker:
        process = CeleryWorker(
            name,
            broker_url=redis_broker,
            media_root=str(tmp_path),
            log_dir=tmp_path,
            queues="sync,stamping,documents",
            env={"SYNC_LEASE_SECONDS": "2", "SYNC_RETRY_BASE_SECONDS": "0.1"},
        )
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.kill()
        if getattr(process, "log", None):
            process.log.close()


def _done(*runs) -> bool:
    return all(Run.objects.filter(pk=run.pk, status="done").exists() for run in runs)


def test_a_worker_killed_mid_run_leaves_each_document_once_stamped_once_and_reported(processes):
    demo = load_demo()
    with server(*[document(i) for i in IDS]) as wopen:
        wopen.delay = 0.7  # one document per page: the run takes a few seconds
        connection = wopen_connection(demo.company, wopen.url, page_size=1, enabled=False)
        worker = processes("wopen-w1")
        first = request_run(connection=connection, trigger=Run.Trigger.API)
        wait_until(
            lambda: WopenDocument.objects.count() >= 2,
            timeout=90,
            message=f"two documents written\n{worker.output()[-3000:]}",
        )
        worker.kill()
        time.sleep(2.5)  # the dead run's lease lapses
        worker = processes("wopen-w2")
        wopen.delay = 0
        Connection.objects.filter(pk=connection.pk).update(cursor="")  # read everything again
        second = request_run(connection=connection, trigger=Run.Trigger.API)
        wait_until(lambda: _done(first, second), timeout=90, message=f"both runs\n{worker.output()[-3000:]}")
        wait_until(
            lambda: CfdiDocument.objects.filter(status="stamped").count() == len(IDS),
            timeout=120,
            message=f"every invoice stamped\n{worker.output()[-3000:]}",
        )
        third = request_run(connection=connection, trigger=Run.Trigger.API)
        wait_until(lambda: _done(third), timeout=60, message=f"the reporting run\n{worker.output()[-3000:]}")
        reports = dict(wopen.source.reports)

    first.refresh_from_db()
    assert first.result == "failed"
    assert sorted(WopenDocument.objects.values_list("wopen_id", flat=True)) == IDS
    links = WopenDocument.objects.select_related("document")
    assert all(link.document.status == "emitted" and link.reported_at for link in links)
    for link in links:
        stamped = CfdiDocument.objects.filter(source_model="sales.salesdocument", source_id=link.document_id)
        assert stamped.count() == 1  # never stamped twice
        assert reports[link.wopen_id]["uuid"] == str(stamped.get().uuid).upper()
    assert sorted(reports) == IDS
