"""Customer file import (issue 13) through the API, the sync screen and the admin."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sales.models import Customer, SalesEntity
from sync.models import CustomerImport, Run
from tests.factories import CustomerFactory
from tests.factories_customer_file import file_connection, row, xlsx

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(content: bytes, name="clientes.xlsx"):
    return SimpleUploadedFile(name, content, content_type=XLSX)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_api_dry_run_shows_the_preview_and_writes_nothing_then_apply_applies_it(
    company, integrator, api_as, django_capture_on_commit_callbacks
):
    connection = file_connection(company)
    entity = SalesEntity.objects.get(company=company)
    CustomerFactory(entity=entity, number=50, external_key="C000001", rfc=row(1)[1], email="viejo@example.mx")
    api = api_as(integrator)
    content = xlsx([row(1), row(2), row(3, RFC="AAA010101AA0")])
    before = Customer.objects.count()

    reply = api.post(f"/api/sync/connections/{connection.pk}/import/?dry_run=1", {"file": upload(content)},
                     format="multipart")  # fmt: skip

    assert reply.status_code == 200, reply.content
    shown = reply.json()["preview"]
    assert (shown["to_create"], shown["to_update"], shown["errors"], shown["status"]) == (1, 1, 1, "preview")
    assert reply.json()["run"] is None
    update = next(r for r in shown["rows"] if r["action"] == "update")
    assert update["changes"]["email"] == ["viejo@example.mx", "c1@example.mx"]
    error = next(r for r in shown["rows"] if r["action"] == "error")
    assert (error["row"], error["column"]) == (4, "RFC")
    assert Customer.objects.count() == before

    with django_capture_on_commit_callbacks(execute=True):
        reply = api.post(f"/api/sync/connections/{connection.pk}/import/", {"file": upload(content)},
                         format="multipart")  # fmt: skip
    assert reply.status_code == 202, reply.content
    assert reply.json()["preview"]["id"] == shown["id"]  # the same file: the preview shown is applied
    run = Run.objects.get(pk=reply.json()["run"]["id"])
    assert (run.result, run.created, run.updated, run.failed) == ("partial", 1, 1, 1)
    assert Customer.objects.get(external_key="C000001").email == "c1@example.mx"

    again = api.post(f"/api/sync/imports/{shown['id']}/apply/")
    assert again.status_code == 409
    assert "no se aplica dos veces" in again.json()["message"]
    listed = api.get("/api/sync/imports/").json()
    assert [i["id"] for i in listed["results"]] == [shown["id"]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "está vac"),
        (b"%PDF-1.5", "no es una hoja de cálculo"),
        (xlsx([row(1), row(1)]), "aparece dos veces"),
    ],
)
def test_api_bad_file_answers_400_in_spanish_and_changes_nothing(
    company, integrator, api_as, content, message
):
    connection = file_connection(company)
    before = Customer.objects.count()
    reply = api_as(integrator).post(
        f"/api/sync/connections/{connection.pk}/import/", {"file": upload(content)}, format="multipart"
    )
    assert reply.status_code == 400
    assert message in str(reply.json())
    assert Customer.objects.count() == before
    assert not CustomerImport.objects.exists()
    assert not Run.objects.exists()


def test_ops_may_see_imports_but_not_upload_and_other_companies_get_404(
    company, other_company, ops, integrator, api_as
):
    connection = file_connection(company)
    reply = api_as(ops).post(f"/api/sync/connections/{connection.pk}/import/", {"file": upload(xlsx([row(1)]))},
                             format="multipart")  # fmt: skip
    assert reply.status_code == 403
    foreign = file_connection(other_company, name="Ajena")
    reply = api_as(integrator).post(f"/api/sync/connections/{foreign.pk}/import/", {"file": upload(xlsx([row(1)]))},
                                    format="multipart")  # fmt: skip
    assert reply.status_code == 404
    assert not CustomerImport.objects.exists()


def test_screen_upload_shows_the_preview_then_applies_it(
    company, accountant, django_capture_on_commit_callbacks
):
    connection = file_connection(company)
    entity = SalesEntity.objects.get(company=company)
    CustomerFactory(entity=entity, number=50, external_key="C000001", rfc=row(1)[1], email="viejo@example.mx")
    client = client_for(accountant)
    viewer = client.get("/sync/eventos/").content.decode()
    assert f"/sync/conexiones/{connection.pk}/importar/" in viewer
    before = list(Customer.objects.values_list("pk", "email"))

    reply = client.post(f"/sync/conexiones/{connection.pk}/importar/", {"file": upload(xlsx([row(1), row(2)]))},
                        follow=True)  # fmt: skip

    page = reply.content.decode()
    assert "Vista previa de «clientes.xlsx»" in page
    assert "Correo electrónico: viejo@example.mx → c1@example.mx" in page  # the field's label, in Spanish
    assert list(Customer.objects.values_list("pk", "email")) == before
    preview = CustomerImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post(f"/sync/importaciones/{preview.pk}/aplicar/", follow=True)
    assert "en curso" in reply.content.decode()
    assert Customer.objects.get(external_key="C000001").email == "c1@example.mx"
    assert Customer.objects.filter(external_key="C000002").exists()


def test_screen_bad_file_shows_the_message_and_stores_nothing(company, accountant):
    connection = file_connection(company)
    reply = client_for(accountant).post(
        f"/sync/conexiones/{connection.pk}/importar/", {"file": upload(b"PK\x03\x04roto")}, follow=True
    )
    assert "no es un Libro de Excel válido" in reply.content.decode()
    assert not CustomerImport.objects.exists()


def test_admin_upload_leads_to_the_same_preview(company, accountant):
    connection = file_connection(company)
    client = client_for(accountant)
    change = client.get(f"/admin/sync/connection/{connection.pk}/change/").content.decode()
    assert f"/admin/sync/connection/{connection.pk}/importar/" in change
    reply = client.post(f"/admin/sync/connection/{connection.pk}/importar/", {"file": upload(xlsx([row(1)]))})
    preview = CustomerImport.objects.get()
    assert reply.status_code == 302 and reply.url == f"/sync/importaciones/{preview.pk}/"
    assert preview.to_create == 1
    listing = client.get("/admin/sync/customerimport/").content.decode()
    assert "clientes.xlsx" in listing


def test_demo_has_a_customer_file_connection_with_a_preview_ready_to_apply(settings):
    from demo.services import load_customer_file_demo, load_demo

    demo = load_demo()
    connection = load_customer_file_demo(demo.company)
    preview = connection.imports.get()
    assert (preview.to_create, preview.errors, preview.status) == (2, 1, "preview")
    assert "dígito verificador" in preview.rows.get(action="error").message
    assert load_customer_file_demo(demo.company).imports.count() == 1
