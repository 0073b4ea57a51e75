"""The delivery pipeline on a real Celery worker with a real Redis broker: an invoice posted
through the API is stamped (Finkok's SOAP protocol, over HTTP on loopback), printed and mailed
(real SMTP on loopback). A lost PAC reply and a worker killed in the middle of a stamp each
still end with exactly one UUID."""

import os
from datetime import date
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from cfdi.models import CfdiDocument, PacAccount, SandboxStamp
from demo.services import load_demo
from erp.celery import app
from inventory.models import Product, Warehouse
from inventory.services import create_stock_movement
from sales.models import SalesDocument, SalesEntity
from tests.factories_delivery import CeleryWorker, FakeFinkok, SmtpSink, wait_until

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _forget_broker_connections():
    """Eager tasks still open a producer pool on the configured (empty) broker; drop it so the
    next publish connects to the broker configured now."""
    app._pool = None  # kombu keeps the pools per broker URL; this only forgets which one
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def redis_broker():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(BROKER_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"Necesita Redis en {BROKER_URL} (broker de Celery).")
    client.flushdb()
    keys = ("task_always_eager", "broker_url", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(
        task_always_eager=False, broker_url=BROKER_URL, broker_transport_options={"visibility_timeout": 4}
    )
    _forget_broker_connections()
    yield BROKER_URL
    app.conf.update(saved)
    _forget_broker_connections()
    client.flushdb()
    client.close()


@pytest.fixture
def delivery(redis_broker, tmp_path, settings, api_as):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)
    demo = load_demo()
    create_stock_movement(
        company=demo.company,
        warehouse=Warehouse.objects.get(company=demo.company, code="ALM"),
        kind="entry",
        date=date(2026, 11, 1),
        concept="Inventario inicial",
        lines=[
            {"product": Product.objects.get(company=demo.company, code=c), "quantity": 500, "unit_cost": "5"}
            for c in ("A", "B")
        ],
    )
    workers: list[CeleryWorker] = []
    with FakeFinkok() as finkok, SmtpSink() as smtp:
        PacAccount.objects.create(
            company=demo.company,
            provider=PacAccount.Provider.FINKOK,
            environment=PacAccount.Environment.TEST,
            username="timbrado@ekú.example.mx",
            password="finkok-secreta",
            service_url=finkok.url,
            timeout_seconds=2,
        )

        def start_worker(name: str) -> CeleryWorker:
            worker = CeleryWorker(
                name,
                broker_url=redis_broker,
                media_root=str(media),
                log_dir=tmp_path,
                env={
                    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                    "EMAIL_HOST": "127.0.0.1",
                    "EMAIL_PORT": str(smtp.port),
                },
            )
            workers.append(worker)
            return worker.start()

        try:
            yield SimpleNamespace(
                demo=demo,
                finkok=finkok,
                smtp=smtp,
                start_worker=start_worker,
                client=api_as(get_user_model().objects.get(username="cajero")),
                workers=workers,
            )
        finally:
            for worker in workers:
                worker.kill()
                if worker.log:
                    worker.log.close()


def post_invoice(delivery) -> int:
    entity = SalesEntity.objects.get(company=delivery.demo.company, code="PACHUCA")
    body = {
        "entity": entity.pk,
        "customer": 1,
        "date": str(date.today()),
        "payment": "credit",
        "lines": [{"product": "A", "quantity": "100"}, {"product": "B", "quantity": "200"}],
    }
    invoice = delivery.client.post("/api/sales/invoices/", body, format="json").json()
    response = delivery.client.post(f"/api/sales/invoices/{invoice['id']}/post/", {}, format="json")
    assert response.status_code == 200, response.json()
    return invoice["id"]


def stamped_document(invoice_id: int, delivery, *, mailed: bool = True, timeout: float = 90) -> CfdiDocument:
    def done():
        documents = CfdiDocument.objects.filter(source_id=invoice_id, status="stamped")
        if mailed:
            documents = documents.filter(emailed_at__isnull=False)
        return documents.first()

    try:
        return wait_until(done, timeout=timeout, message="the CFDI to be stamped and delivered")
    except AssertionError:
        logs = "\n".join(worker.output()[-4000:] for worker in delivery.workers)
        state = list(CfdiDocument.objects.filter(source_id=invoice_id).values("status", "last_error_message"))
        raise AssertionError(
            f"pipeline did not finish: {state}, PAC requests {delivery.finkok.requests}; worker logs:\n{logs}"
        ) from None


def test_worker_stamps_prints_and_mails_an_invoice_posted_through_the_api(delivery):
    delivery.start_worker("delivery1")
    invoice_id = post_invoice(delivery)

    document = stamped_document(invoice_id, delivery)
    assert document.pac == "finkok" and document.uuid == delivery.finkok.stamps[0]
    assert document.pdf.name.endswith(".pdf") and document.cfdi_column == "PDF"
    assert document.emailed_to == "compras@ure.example.mx"
    assert [op for op, _ in delivery.finkok.requests] == ["stamp"]
    assert delivery.finkok.requests[0][1] == "timbrado@ekú.example.mx"

    (message,) = delivery.smtp.wait_for(1)
    assert message["To"] == "compras@ure.example.mx"
    assert message["Subject"] == "CFDI factura A1 de ESCUELA KEMPER URGATE"
    text = message.get_body(("plain",)).get_content()
    assert "Estimado cliente" in text and document.uuid in text and "3,654.00 MXN" in text
    attachments = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    xml_name, pdf_name = document.filename, document.pdf_filename
    assert set(attachments) == {xml_name, pdf_name}
    assert attachments[xml_name] == bytes(CfdiDocument.objects.get(pk=document.pk).xml)
    assert attachments[pdf_name][:5] == b"%PDF-"

    detail = delivery.client.get(f"/api/sales/invoices/{invoice_id}/").json()
    assert (detail["cfdi"], detail["cfdi_error"]) == ("PDF", "")


def test_a_lost_pac_reply_is_retried_and_ends_with_one_uuid(delivery):
    delivery.finkok.faults = ["drop"]  # Finkok stamps, but its reply is lost on the way back
    delivery.start_worker("delivery2")
    invoice_id = post_invoice(delivery)

    document = stamped_document(invoice_id, delivery)
    assert [op for op, _ in delivery.finkok.requests] == ["stamp", "stamp", "stamped"]  # the retry got 307
    assert delivery.finkok.stamps == [document.uuid]
    assert SandboxStamp.objects.count() == 1
    assert CfdiDocument.objects.filter(source_id=invoice_id).count() == 1
    assert (document.last_error_code, SalesDocument.objects.get(pk=invoice_id).cfdi_error) == ("", "")
    assert len(delivery.smtp.wait_for(1)) == 1


def test_a_worker_killed_mid_stamp_leaves_one_uuid(delivery):
    delivery.finkok.faults = ["hold"]  # Finkok stamps and holds its reply...
    first = delivery.start_worker("delivery3a")
    invoice_id = post_invoice(delivery)
    assert delivery.finkok.hold_started.wait(60), first.output()[-3000:]
    first.kill()  # ...while the worker dies: the task was never acknowledged
    delivery.finkok.release.set()
    assert CfdiDocument.objects.get(source_id=invoice_id).status == "sealed"

    delivery.start_worker("delivery3b")  # Redis redelivers the task after its visibility timeout
    document = stamped_document(invoice_id, delivery)
    assert [op for op, _ in delivery.finkok.requests] == ["stamp", "stamp", "stamped"]
    assert delivery.finkok.stamps == [document.uuid]
    assert SandboxStamp.objects.count() == 1
    assert CfdiDocument.objects.filter(source_id=invoice_id).count() == 1
