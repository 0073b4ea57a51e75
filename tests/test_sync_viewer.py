"""The event viewer at /sync/eventos/ through Django's client, the login landing by role, and
the demo's QR connection."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from demo.services import DEMO_PASSWORD, load_demo, load_sync_demo
from erp.models import Role
from sales.models import Customer
from sync.engine import execute_run
from sync.models import Connection, Event, Run
from tests.factories import user_with_role
from tests.factories_sync import qr_connection, qr_server, receiver

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_ops_user_lands_on_the_viewer_after_login_and_the_cashier_on_the_invoices(company):
    ops = user_with_role(company, Role.OPS, username="ops")
    ops.set_password("x")
    ops.save()
    response = Client().post("/accounts/login/", {"username": "ops", "password": "x"}, follow=True)
    assert response.redirect_chain[-1][0] == "/sync/eventos/"
    assert "Visor de eventos" in response.content.decode()
    cashier = user_with_role(company, Role.CASHIER, username="caja")
    assert client_for(cashier).get("/inicio/").url == "/caja/facturas/"


def test_viewer_lists_connections_runs_and_the_last_7_days_of_events_newest_first(company, ops):
    with qr_server([receiver("IIA040805DZ4"), receiver("NOESUNRFC")]) as server:
        connection = qr_connection(company, server.url)
        run = Run.objects.create(company=company, connection=connection, trigger="manual")
        execute_run(run_id=run.pk)
    old = Event.objects.create(company=company, connection=connection, level="info", message="evento viejo")
    Event.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=8))
    page = client_for(ops).get("/sync/eventos/").content.decode()
    assert "QR clientes" in page and "Activa" in page and "Sincronizar ahora" in page and "Desactivar" in page
    assert f"#{run.pk}" in page and "Parcial" in page
    assert "no tiene una estructura válida" in page
    assert "evento viejo" not in page
    customer = Customer.objects.get(rfc="IIA040805DZ4")
    assert f'href="/admin/sales/customer/{customer.pk}/change/"' in page
    # newest first: the run's summary event comes after (above) the customer it created
    assert page.index("Creados 1") < page.index("dado de alta")
    # filters: level, text, a wider date range
    assert "dado de alta" not in client_for(ops).get("/sync/eventos/", {"level": "error"}).content.decode()
    assert "evento viejo" in client_for(ops).get("/sync/eventos/", {"since": ""}).content.decode()
    only_run = client_for(ops).get("/sync/eventos/", {"run": run.pk}).content.decode()
    assert "Creados 1, actualizados 0" in only_run and 'id="run-summary"' in only_run


def test_ops_runs_now_and_disables_from_the_viewer(company, ops, django_capture_on_commit_callbacks):
    with qr_server([receiver("IIA040805DZ4")]) as server:
        connection = qr_connection(company, server.url)
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(ops).post(f"/sync/conexiones/{connection.pk}/sincronizar/", follow=True)
    assert "solicitada" in response.content.decode()
    assert Run.objects.get().result == "success"
    client_for(ops).post(f"/sync/conexiones/{connection.pk}/activar/")
    assert not Connection.objects.get().enabled


def test_cashier_has_no_viewer_and_cannot_run(company, cashier):
    connection = qr_connection(company, "http://127.0.0.1:9")
    assert client_for(cashier).get("/sync/eventos/").status_code == 404
    assert client_for(cashier).post(f"/sync/conexiones/{connection.pk}/sincronizar/").status_code == 404
    assert not Run.objects.exists()


def test_another_companys_connections_are_not_shown(company, other_company):
    qr_connection(company, "http://127.0.0.1:9", name="Conexión ajena")
    stranger = user_with_role(other_company, Role.OPS)
    assert "Conexión ajena" not in client_for(stranger).get("/sync/eventos/").content.decode()


def test_demo_has_a_qr_connection_with_real_runs(settings):
    settings.SYNC_DEMO_SOURCE = True
    demo = load_demo()
    connection = load_sync_demo(demo.company)
    run = Run.objects.get(connection=connection)
    assert (run.result, run.created, run.failed) == ("partial", 3, 1)
    assert connection.options["base_url"] == "http://127.0.0.1:8000/sync/demo-qr"
    # the built-in source is also served by the project's own server
    client = Client()
    reply = client.get("/sync/demo-qr/api/v1/receptores", {"limite": 2}, HTTP_AUTHORIZATION="Bearer demo-qr")
    assert reply.json()["hay_mas"] is True and len(reply.json()["receptores"]) == 2
    assert client.get("/sync/demo-qr/api/v1/receptores").status_code == 401
    ops = Client()
    assert ops.login(username="operaciones", password=DEMO_PASSWORD)
    assert "CONTPAQi QR (demo)" in ops.get("/sync/eventos/").content.decode()
    # loading twice is safe
    assert load_sync_demo(demo.company).pk == connection.pk
