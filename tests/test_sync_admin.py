"""The sync admin: accountants configure connections (credentials write-only), runs and events
are read-only."""

import pytest
from django.test import Client

from sync.models import PERIOD_MESSAGE, Connection, Run
from tests.factories import sales_entity
from tests.factories_sync import TOKEN, qr_connection

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(company, **overrides):
    data = {
        "company": company.pk, "kind": "qr_customers", "name": "QR", "enabled": "on", "period_minutes": 10,
        "options": '{"base_url": "http://127.0.0.1:9", "entity": "MTY"}', "new_credentials": TOKEN,
    }  # fmt: skip
    data.update(overrides)
    return data


def test_accountant_adds_a_connection_in_the_admin_and_never_sees_its_credentials(company, accountant):
    sales_entity(company)
    client = admin_client(accountant)
    response = client.post("/admin/sync/connection/add/", form(company))
    assert response.status_code == 302, response.content.decode()[:3000]
    connection = Connection.objects.get()
    assert connection.credentials == TOKEN
    page = client.get(f"/admin/sync/connection/{connection.pk}/change/").content.decode()
    assert TOKEN not in page and "Credenciales nuevas" in page
    # saving without new credentials keeps them
    client.post(
        f"/admin/sync/connection/{connection.pk}/change/",
        form(company, new_credentials="", period_minutes=20),
    )
    connection.refresh_from_db()
    assert (connection.period_minutes, connection.credentials) == (20, TOKEN)


def test_period_out_of_range_in_the_admin_shows_the_message_and_saves_nothing(company, accountant):
    sales_entity(company)
    response = admin_client(accountant).post(
        "/admin/sync/connection/add/", form(company, period_minutes=1441)
    )
    assert response.status_code == 200
    assert str(PERIOD_MESSAGE) in response.content.decode()
    assert not Connection.objects.exists()


def test_runs_and_events_are_read_only_in_the_admin(company, accountant):
    connection = qr_connection(company, "http://127.0.0.1:9")
    run = Run.objects.create(company=company, connection=connection, trigger="manual")
    client = admin_client(accountant)
    assert client.get("/admin/sync/run/").status_code == 200
    assert client.get("/admin/sync/event/").status_code == 200
    assert client.get("/admin/sync/run/add/").status_code == 403
    assert client.post(f"/admin/sync/run/{run.pk}/delete/", {"post": "yes"}).status_code == 403
