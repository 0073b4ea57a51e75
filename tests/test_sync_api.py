"""The sync REST API: connections (CRUD, credentials write-only, run → 202, enable/disable),
runs and events with the viewer's filters; scoped by company and role."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from erp.models import Role
from sync.models import Connection, Event, Run
from tests.factories import sales_entity, user_with_role
from tests.factories_sync import TOKEN, qr_connection, qr_server, receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0.01


def body(company, url="http://127.0.0.1:9", **overrides):
    data = {
        "company": company.pk,
        "kind": "qr_customers",
        "name": "QR de la matriz",
        "enabled": True,
        "period_minutes": 10,
        "options": {"base_url": url, "entity": "MTY"},
        "credentials": TOKEN,
    }
    data.update(overrides)
    return data


def test_accountant_creates_a_connection_credentials_never_returned(company, accountant, api_as):
    sales_entity(company)
    client = api_as(accountant)
    response = client.post("/api/sync/connections/", body(company), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert "credentials" not in data and data["has_credentials"] is True
    assert data["options"] == {
        "base_url": "http://127.0.0.1:9",
        "entity": "MTY",
        "page_size": 500,
        "timeout_seconds": 10.0,
    }
    assert TOKEN not in client.get(f"/api/sync/connections/{data['id']}/").content.decode()
    assert Connection.objects.get().credentials == TOKEN
    assert PeriodicTask.objects.filter(name=f"sync-connection-{data['id']}").count() == 1
    # a change without credentials keeps them
    response = client.patch(f"/api/sync/connections/{data['id']}/", {"period_minutes": 20}, format="json")
    assert response.status_code == 200
    assert Connection.objects.get().credentials == TOKEN
    assert PeriodicTask.objects.get(name=f"sync-connection-{data['id']}").interval.every == 20


@pytest.mark.parametrize("period", [4, 1441])
def test_period_out_of_range_answers_400_with_the_message_and_saves_nothing(
    company, accountant, api_as, period
):
    sales_entity(company)
    response = api_as(accountant).post(
        "/api/sync/connections/", body(company, period_minutes=period), format="json"
    )
    assert response.status_code == 400
    assert (
        response.json()["message"]
        == "period_minutes: El periodo de sincronización debe estar entre 5 y 1440 minutos."
    )
    assert (
        not Connection.objects.exists() and not PeriodicTask.objects.filter(name__startswith="sync-").exists()
    )


def test_period_change_out_of_range_leaves_the_connection_and_schedule_as_they_were(
    company, accountant, api_as
):
    connection = qr_connection(company, "http://127.0.0.1:9", period_minutes=15)
    response = api_as(accountant).patch(
        f"/api/sync/connections/{connection.pk}/", {"period_minutes": 1441}, format="json"
    )
    assert response.status_code == 400
    assert Connection.objects.get().period_minutes == 15
    assert PeriodicTask.objects.get(name=connection.task_name).interval.every == 15


def test_run_answers_202_with_the_run_and_the_run_happens(
    company, ops, api_as, django_capture_on_commit_callbacks
):
    with qr_server([receiver("IIA040805DZ4")]) as server:
        connection = qr_connection(company, server.url)
        with django_capture_on_commit_callbacks(execute=True):
            response = api_as(ops).post(f"/api/sync/connections/{connection.pk}/run/")
    assert response.status_code == 202
    run = Run.objects.get(pk=response.json()["id"])
    assert (response.json()["trigger"], response.json()["status"]) == ("api", "pending")
    assert (run.result, run.created) == ("success", 1)
    events = api_as(ops).get("/api/sync/events/", {"run": run.pk}).json()["results"]
    assert any(e["record_key"] == "IIA040805DZ4" and e["record_url"] for e in events)
    runs = api_as(ops).get("/api/sync/runs/", {"connection": connection.pk}).json()["results"]
    assert [r["id"] for r in runs] == [run.pk]


def test_ops_may_run_enable_and_disable_but_not_configure(company, ops, api_as):
    connection = qr_connection(company, "http://127.0.0.1:9")
    client = api_as(ops)
    assert (
        client.post(f"/api/sync/connections/{connection.pk}/enabled/", {"enabled": False}).status_code == 200
    )
    assert not Connection.objects.get().enabled
    assert not PeriodicTask.objects.filter(name=connection.task_name).exists()
    assert (
        client.patch(
            f"/api/sync/connections/{connection.pk}/", {"period_minutes": 30}, format="json"
        ).status_code
        == 403
    )
    assert client.delete(f"/api/sync/connections/{connection.pk}/").status_code == 403
    assert Connection.objects.get().period_minutes == 60


def test_cashier_sees_no_sync(company, cashier, api_as):
    qr_connection(company, "http://127.0.0.1:9")
    client = api_as(cashier)
    assert client.get("/api/sync/connections/").status_code == 403
    assert client.get("/api/sync/events/").status_code == 403


def test_another_companys_connection_is_404(company, other_company, api_as):
    connection = qr_connection(company, "http://127.0.0.1:9")
    stranger = user_with_role(other_company, Role.ACCOUNTANT)
    client = api_as(stranger)
    assert client.get(f"/api/sync/connections/{connection.pk}/").status_code == 404
    assert client.post(f"/api/sync/connections/{connection.pk}/run/").status_code == 404
    assert client.get("/api/sync/events/").json()["count"] == 0
    assert not Run.objects.exists()


def test_accountant_deletes_a_connection_and_its_schedule(company, accountant, api_as):
    connection = qr_connection(company, "http://127.0.0.1:9")
    assert api_as(accountant).delete(f"/api/sync/connections/{connection.pk}/").status_code == 204
    assert (
        not Connection.objects.exists()
        and not PeriodicTask.objects.filter(name=connection.task_name).exists()
    )


def test_events_filter_by_connection_level_run_dates_and_text(company, ops, api_as):
    a = qr_connection(company, "http://127.0.0.1:9", name="A")
    b = qr_connection(company, "http://127.0.0.1:9", name="B", entity=sales_entity(company, code="GDL"))
    run = Run.objects.create(company=company, connection=a, trigger="manual")
    e1 = Event.objects.create(
        company=company, connection=a, run=run, level="error", message="RFC inválido", record_key="X1"
    )
    e2 = Event.objects.create(company=company, connection=a, level="info", message="Sin cambios")
    e3 = Event.objects.create(company=company, connection=b, level="info", message="Cliente creado")
    Event.objects.filter(pk=e2.pk).update(at=timezone.now() - timedelta(days=10))
    client = api_as(ops)

    def ids(**params):
        response = client.get("/api/sync/events/", params)
        assert response.status_code == 200, response.json()
        return [e["id"] for e in response.json()["results"]]

    assert ids() == [e3.pk, e1.pk, e2.pk]
    assert ids(connection=a.pk) == [e1.pk, e2.pk]
    assert ids(level="error") == [e1.pk]
    assert ids(run=run.pk) == [e1.pk]
    assert ids(since=(timezone.localdate() - timedelta(days=6)).isoformat()) == [e3.pk, e1.pk]
    assert ids(until=(timezone.localdate() - timedelta(days=9)).isoformat()) == [e2.pk]
    assert ids(q="x1") == [e1.pk]
    bad = client.get("/api/sync/events/", {"since": "ayer"})
    assert bad.status_code == 400 and bad.json()["code"] == "validacion"


def test_sync_endpoints_are_in_the_openapi_schema(accountant, api_as):
    schema = api_as(accountant).get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/sync/connections/",
        "/api/sync/connections/{id}/run/",
        "/api/sync/runs/",
        "/api/sync/events/",
    ):
        assert path in schema["paths"]
    assert "202" in schema["paths"]["/api/sync/connections/{id}/run/"]["post"]["responses"]
