"""Customer file import (issue 13): each rule of the issue through the API (dry run, then the
real call) and through the sync viewer's upload ("Vista previa", then "Aplicar"), on the same
files: the seed's three behaviours with an ignored field in each format, the match by RFC, each
row validated as the customer form, the column mapping. (The service's own tests:
tests/test_sync_customer_file.py; in Chromium: tests/test_sync_customer_file_browser.py.)"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sales.models import Customer, SalesEntity
from sync.models import CustomerImport, Event, Run
from tests.factories import CustomerFactory, SalespersonFactory
from tests.factories_customer_file import HEADERS, csv_bytes, file_connection, moral_rfc, row, xlsx

pytestmark = pytest.mark.django_db

CHANNELS = ["api", "screen"]


class Channel:
    """Preview a file, then apply it, through the API or through the screen."""

    def __init__(self, kind, connection, integrator, accountant, api_as, capture):
        self.kind, self.connection, self.capture = kind, connection, capture
        self.api = api_as(integrator)
        self.client = Client()
        self.client.force_login(accountant)
        self.page = ""

    def preview(self, content: bytes, name: str) -> CustomerImport:
        upload = SimpleUploadedFile(name, content)
        if self.kind == "api":
            reply = self.api.post(f"/api/sync/connections/{self.connection.pk}/import/?dry_run=1", {"file": upload},
                                  format="multipart")  # fmt: skip
            assert reply.status_code == 200, reply.content
            self.page = reply.content.decode()
            return CustomerImport.objects.get(pk=reply.json()["preview"]["id"])
        reply = self.client.post(
            f"/sync/conexiones/{self.connection.pk}/importar/", {"file": upload}, follow=True
        )
        assert reply.status_code == 200
        self.page = reply.content.decode()
        assert "Vista previa de «" in self.page, [str(m) for m in reply.context["messages"]]
        return CustomerImport.objects.get(pk=reply.context["preview"].pk)

    def apply(self, content: bytes, name: str, shown: CustomerImport) -> Run:
        with self.capture(execute=True):
            if self.kind == "api":
                reply = self.api.post(f"/api/sync/connections/{self.connection.pk}/import/",
                                      {"file": SimpleUploadedFile(name, content)}, format="multipart")  # fmt: skip
                assert reply.status_code == 202, reply.content
                assert reply.json()["preview"]["id"] == shown.pk  # the preview shown is what is applied
            else:
                reply = self.client.post(f"/sync/importaciones/{shown.pk}/aplicar/", follow=True)
                assert "en curso" in reply.content.decode()
        shown.refresh_from_db()
        assert shown.status == "applied"
        return Run.objects.get(pk=shown.run_id)


@pytest.fixture
def channel(request, company, integrator, accountant, api_as, django_capture_on_commit_callbacks):
    def make(connection):
        return Channel(
            request.param, connection, integrator, accountant, api_as, django_capture_on_commit_callbacks
        )

    return make


def here(entity, n, **fields):
    values = dict(zip(HEADERS, row(n), strict=True))
    defaults = {
        "external_key": values["Clave"], "rfc": values["RFC"], "name": values["Razón social"],
        "regimen_fiscal": "601", "postal_code": "06000", "uso_cfdi": "G03", "forma_pago": "03",
        "email": values["Correo electrónico"], "phones": "8181234567", "credit_days": 30,
    }  # fmt: skip
    defaults.update(fields)
    return CustomerFactory(entity=entity, number=n + 100, **defaults)


def values_of(customer) -> dict:
    return Customer.objects.filter(pk=customer.pk).values().get()


FORMATS = {
    "xlsx": ("clientes.xlsx", xlsx),
    "csv-windows-1252-semicolon": (
        "clientes.csv",
        lambda rows: csv_bytes(rows, encoding="cp1252", delimiter=";"),
    ),
    "csv-utf8-bom-comma": ("clientes.csv", lambda rows: b"\xef\xbb\xbf" + csv_bytes(rows)),
}


@pytest.mark.parametrize("channel", CHANNELS, indirect=True)
@pytest.mark.parametrize("file_format", list(FORMATS))
def test_the_seeds_three_behaviours_with_an_ignored_field(company, channel, file_format):
    connection = file_connection(company, ignored=["email"])
    entity = SalesEntity.objects.get(company=company)
    same = here(entity, 1)
    differs = here(entity, 2, credit_days=0, email="cobranza@cliente.mx")
    absent = here(entity, 3, name="NO ESTA EN EL ARCHIVO SA DE CV")
    before = {c.pk: values_of(c) for c in (same, differs, absent)}
    name, build = FORMATS[file_format]
    content = build(
        [
            row(1),
            row(2, **{"Razón social": "PEÑA DOS SA DE CV", "Correo electrónico": "otro@cliente.mx"}),
            row(4),
        ]
    )
    via = channel(connection)

    shown = via.preview(content, name)

    assert (shown.rows_read, shown.to_create, shown.to_update, shown.unchanged, shown.errors) == (
        3,
        1,
        1,
        1,
        0,
    )
    assert shown.rows.get(action="update").changes == {
        "name": ["CLIENTE 2 SA DE CV", "PEÑA DOS SA DE CV"],
        "credit_days": ["0", "30"],
    }
    if via.kind == "screen":
        assert (
            "Días de crédito: 0 → 30" in via.page
            and "Razón social: CLIENTE 2 SA DE CV → PEÑA DOS SA DE CV" in via.page
        )
    assert "otro@cliente.mx" not in via.page
    assert {pk: values_of(Customer(pk=pk)) for pk in before} == before  # the preview wrote nothing
    assert not Customer.objects.filter(external_key="C000004").exists() and not Run.objects.exists()

    run = via.apply(content, name, shown)

    assert (run.result, run.created, run.updated, run.unchanged, run.failed) == ("success", 1, 1, 1, 0)
    assert values_of(same) == before[same.pk]
    assert values_of(absent) == before[absent.pk]
    now = values_of(differs)
    assert (now["name"], now["credit_days"], now["email"]) == ("PEÑA DOS SA DE CV", 30, "cobranza@cliente.mx")
    assert {k for k in now if now[k] != before[differs.pk][k]} <= {"name", "credit_days", "updated_at"}
    new = Customer.objects.get(company=company, external_key="C000004")
    assert (new.rfc, new.name, new.email, new.entity_id) == (
        moral_rfc(4),
        "CLIENTE 4 SA DE CV",
        "",
        entity.pk,
    )


@pytest.mark.parametrize("channel", CHANNELS, indirect=True)
def test_match_by_rfc_updates_that_customer_and_refuses_the_generic_rfc(company, channel):
    connection = file_connection(company, match_key="rfc")
    customer = here(
        SalesEntity.objects.get(company=company), 9, external_key="", name="NOMBRE VIEJO SA DE CV"
    )
    content = xlsx([row(9, Clave=""), row(1, RFC="XAXX010101000")])
    via = channel(connection)
    shown = via.preview(content, "clientes.xlsx")
    assert (shown.to_update, shown.to_create, shown.errors) == (1, 0, 1)
    assert "el RFC genérico XAXX010101000 no identifica a un cliente" in via.page
    run = via.apply(content, "clientes.xlsx", shown)
    assert (run.updated, run.failed) == (1, 1)
    customer.refresh_from_db()
    assert customer.name == "CLIENTE 9 SA DE CV"
    assert not Customer.objects.filter(
        company=company, rfc="XAXX010101000", name="CLIENTE 1 SA DE CV"
    ).exists()


@pytest.mark.parametrize("channel", CHANNELS, indirect=True)
@pytest.mark.parametrize(
    ("fields", "column", "text"),
    [
        ({"RFC": "AAA010101AA0"}, "RFC", "dígito verificador"),
        ({"Régimen fiscal": "612"}, "Régimen fiscal", "no aplica a una persona moral"),
        ({"Código postal": "1"}, "Código postal", "código postal"),
        ({"Uso CFDI": "D01"}, "Uso CFDI", "no aplica a una persona moral"),
        ({"Días de crédito": "treinta"}, "Días de crédito", "«treinta» no es un número de días"),
    ],
    ids=["rfc-check-digit", "regimen-vs-person", "postal-code", "uso-cfdi-vs-regimen", "credit-days"],
)
def test_a_bad_row_is_an_event_with_its_row_and_column_and_the_rest_applies(
    company, channel, fields, column, text
):
    connection = file_connection(company)
    entity = SalesEntity.objects.get(company=company)
    kept = here(entity, 2, email="viejo@example.mx")
    before = values_of(kept)
    content = xlsx([row(1), row(2, **fields), row(3)])  # row 3 of the sheet: the customer here, changed
    via = channel(connection)
    shown = via.preview(content, "clientes.xlsx")
    assert (shown.to_create, shown.to_update, shown.errors) == (2, 0, 1)
    error = shown.rows.get(action="error")
    assert (error.row, error.column) == (3, column) and text.lower() in error.message.lower()
    assert text.lower() in via.page.lower()
    run = via.apply(content, "clientes.xlsx", shown)
    assert (run.result, run.created, run.updated, run.failed) == ("partial", 2, 0, 1)
    assert Event.objects.filter(
        run=run, level="error", message__startswith=f"Fila 3, columna «{column}»"
    ).exists()
    assert values_of(kept) == before  # its row refused as a whole: the e-mail not applied either
    assert Customer.objects.filter(company=company, external_key__in=["C000001", "C000003"]).count() == 2


@pytest.mark.parametrize("channel", CHANNELS, indirect=True)
def test_the_column_mapping_reads_the_users_headers(company, channel):
    connection = file_connection(company, columns={"clave": "Código cliente", "name": "Nombre"})
    SalespersonFactory(company=company, number=4)
    headers = ["Código cliente", "RFC", "Nombre", "Régimen fiscal", "Código postal", "Uso CFDI", "Vendedor"]
    content = xlsx([["K1", moral_rfc(1), "UNO SA DE CV", "601 - General de Ley", 6000, "G03", 4],
                    ["K2", moral_rfc(2), "DOS SA DE CV", "601", "06000", "G03", 9]], headers)  # fmt: skip
    via = channel(connection)
    shown = via.preview(content, "otro-sistema.xlsx")
    assert (shown.to_create, shown.errors) == (1, 1)
    assert "el vendedor «9» no existe en la empresa" in via.page
    via.apply(content, "otro-sistema.xlsx", shown)
    new = Customer.objects.get(company=company, external_key="K1")
    assert (new.name, new.regimen_fiscal, new.postal_code, new.salesperson.number) == (
        "UNO SA DE CV",
        "601",
        "06000",
        4,
    )
