"""Customer file import (issue 13) on the sync engine: the seed's rules, the preview, bad files."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from erp.errors import DomainError
from sales.models import Customer, SalesEntity
from sync.connectors.customer_file import escape_cell
from sync.models import CustomerImport, Event, Run
from sync.services import apply_customer_import, preview_customer_file
from tests.factories import CustomerFactory, SalespersonFactory
from tests.factories_customer_file import HEADERS, csv_bytes, file_connection, moral_rfc, row, xlsx

pytestmark = pytest.mark.django_db


def preview(connection, content: bytes, name="clientes.xlsx"):
    return preview_customer_file(
        connection=connection, name=name, data=io.BytesIO(content), size=len(content), source="upload"
    )


def apply(preview_row, capture) -> Run:
    with capture(execute=True):
        run = apply_customer_import(customer_import=preview_row, trigger=Run.Trigger.MANUAL)
    run.refresh_from_db()
    return run


def snapshot(company):
    return list(
        Customer.objects.filter(company=company)
        .order_by("pk")
        .values_list("external_key", "rfc", "name", "email", "postal_code", "credit_days", "phones")
    )


def existing(entity, n, **fields):
    values = dict(zip(HEADERS, row(n), strict=True))
    defaults = {
        "external_key": values["Clave"], "rfc": values["RFC"], "name": values["Razón social"],
        "regimen_fiscal": "601", "postal_code": "06000", "uso_cfdi": "G03", "forma_pago": "03",
        "email": values["Correo electrónico"], "phones": "8181234567", "credit_days": 30,
    }  # fmt: skip
    defaults.update(fields)
    return CustomerFactory(entity=entity, number=n + 100, **defaults)


def test_the_seeds_three_rules_on_one_file_add_update_the_different_leave_the_absent(
    company, django_capture_on_commit_callbacks
):
    connection = file_connection(company)
    entity = SalesEntity.objects.get(company=company, code=connection.options["entity"])
    same = existing(entity, 1)
    differs = existing(entity, 2, email="viejo@example.mx", credit_days=0)
    absent = existing(entity, 3, name="NO ESTA EN EL ARCHIVO SA DE CV")
    before_absent = [c for c in snapshot(company) if c[0] == "C000003"]
    content = xlsx([row(1), row(2), row(4)])
    shown = preview(connection, content)
    assert (shown.to_create, shown.to_update, shown.unchanged, shown.errors) == (1, 1, 1, 0)
    update = shown.rows.get(action="update")
    assert update.changes == {"email": ["viejo@example.mx", "c2@example.mx"], "credit_days": ["0", "30"]}
    assert shown.rows.get(action="create").key == "C000004"

    run = apply(shown, django_capture_on_commit_callbacks)

    assert (run.result, run.created, run.updated, run.unchanged, run.failed) == ("success", 1, 1, 1, 0)
    differs.refresh_from_db()
    assert (differs.email, differs.credit_days) == ("c2@example.mx", 30)
    new = Customer.objects.get(company=company, external_key="C000004")
    assert (new.rfc, new.name, new.entity_id, new.uso_cfdi) == (
        moral_rfc(4),
        "CLIENTE 4 SA DE CV",
        entity.pk,
        "G03",
    )
    assert new.number > 0
    assert [c for c in snapshot(company) if c[0] == "C000003"] == before_absent
    absent.refresh_from_db()
    assert absent.name == "NO ESTA EN EL ARCHIVO SA DE CV"
    same.refresh_from_db()
    assert same.email == "c1@example.mx"
    shown.refresh_from_db()
    assert (shown.status, shown.run_id) == ("applied", run.pk)


def test_a_dry_run_writes_no_customer(company):
    connection = file_connection(company)
    before = snapshot(company)
    shown = preview(connection, xlsx([row(n) for n in range(5)]))
    assert shown.to_create == 5
    assert snapshot(company) == before
    assert not Run.objects.exists()


def test_an_ignored_field_is_untouched_though_the_file_changes_it(
    company, django_capture_on_commit_callbacks
):
    connection = file_connection(company, ignored=["email"])
    entity = SalesEntity.objects.get(company=company)
    kept = existing(entity, 7, email="cobranza@cliente.mx", credit_days=5)
    shown = preview(connection, xlsx([row(7, **{"Correo electrónico": "otro@cliente.mx"})]))
    assert shown.rows.get().changes == {"credit_days": ["5", "30"]}
    apply(shown, django_capture_on_commit_callbacks)
    kept.refresh_from_db()
    assert (kept.email, kept.credit_days) == ("cobranza@cliente.mx", 30)


def test_match_by_rfc_updates_the_customer_with_that_rfc(company, django_capture_on_commit_callbacks):
    connection = file_connection(company, match_key="rfc")
    entity = SalesEntity.objects.get(company=company)
    customer = existing(entity, 9, external_key="", name="NOMBRE VIEJO SA DE CV")
    shown = preview(connection, xlsx([row(9, Clave="")]))
    assert shown.rows.get().changes == {"name": ["NOMBRE VIEJO SA DE CV", "CLIENTE 9 SA DE CV"]}
    apply(shown, django_capture_on_commit_callbacks)
    customer.refresh_from_db()
    assert customer.name == "CLIENTE 9 SA DE CV"


def test_match_by_rfc_refuses_the_generic_rfc_row(company):
    connection = file_connection(company, match_key="rfc")
    shown = preview(connection, xlsx([row(1, RFC="XAXX010101000"), row(2)]))
    assert (shown.to_create, shown.errors) == (1, 1)
    assert "no identifica a un cliente" in shown.rows.get(action="error").message


@pytest.mark.parametrize(
    ("fields", "column", "text"),
    [
        ({"RFC": "AAA010101AA0"}, "RFC", "dígito verificador"),
        ({"Régimen fiscal": "612"}, "Régimen fiscal", "no aplica a una persona moral"),
        ({"Código postal": "1"}, "Código postal", ""),
        ({"Uso CFDI": "D01"}, "Uso CFDI", "no aplica a una persona moral"),
    ],
)
def test_each_row_is_validated_as_the_customer_form_and_the_rest_applies(
    company, django_capture_on_commit_callbacks, fields, column, text
):
    connection = file_connection(company)
    shown = preview(connection, xlsx([row(1), row(2, **fields), row(3)]))
    assert (shown.to_create, shown.errors) == (2, 1)
    error = shown.rows.get(action="error")
    assert (error.row, error.column) == (3, column)
    assert text in error.message
    run = apply(shown, django_capture_on_commit_callbacks)
    assert (run.result, run.created, run.failed) == ("partial", 2, 1)
    assert Event.objects.filter(
        run=run, level="error", message__startswith=f"Fila 3, columna «{column}»"
    ).exists()
    assert not Customer.objects.filter(external_key="C000002").exists()


def test_applying_applies_what_was_shown_not_what_changed_since(company, django_capture_on_commit_callbacks):
    connection = file_connection(company)
    entity = SalesEntity.objects.get(company=company)
    customer = existing(entity, 5, email="viejo@example.mx")
    shown = preview(connection, xlsx([row(5), row(6)]))
    Customer.objects.filter(pk=customer.pk).update(email="tecleado@example.mx")
    run = apply(shown, django_capture_on_commit_callbacks)
    customer.refresh_from_db()
    assert customer.email == "tecleado@example.mx"
    assert (run.created, run.updated, run.failed) == (1, 0, 1)
    assert Event.objects.filter(run=run, message__contains="cambió").exists()


def test_the_same_file_again_returns_the_preview_shown_and_a_preview_applies_once(
    company, django_capture_on_commit_callbacks
):
    connection = file_connection(company)
    content = xlsx([row(1)])
    shown = preview(connection, content)
    assert preview(connection, content).pk == shown.pk
    apply(shown, django_capture_on_commit_callbacks)
    with pytest.raises(DomainError, match="no se aplica dos veces"):
        apply_customer_import(customer_import=shown, trigger=Run.Trigger.MANUAL)
    assert Customer.objects.filter(external_key="C000001").count() == 1


def test_csv_windows_1252_with_semicolons_and_utf8_with_bom(company):
    connection = file_connection(company)
    ansi = csv_bytes(
        [row(1, **{"Razón social": "PEÑA Y ASOCIADOS SA DE CV"})], encoding="cp1252", delimiter=";"
    )
    shown = preview(connection, ansi, name="clientes.csv")
    assert shown.rows.get().values["name"] == "PEÑA Y ASOCIADOS SA DE CV"
    utf8 = b"\xef\xbb\xbf" + csv_bytes([row(2, **{"Razón social": "MÜLLER MÉXICO SA DE CV"})])
    shown = preview(connection, utf8, name="clientes2.csv")
    assert shown.rows.get().values["name"] == "MÜLLER MÉXICO SA DE CV"


def test_salesperson_and_column_mapping(company):
    connection = file_connection(company, columns={"clave": "Código cliente"})
    SalespersonFactory(company=company, number=4)
    headers = [
        "Código cliente",
        "RFC",
        "Razón social",
        "Régimen fiscal",
        "Código postal",
        "Uso CFDI",
        "Vendedor",
    ]
    shown = preview(connection, xlsx([["K1", moral_rfc(1), "UNO SA DE CV", "601", 6000, "G03", 4],
                                      ["K2", moral_rfc(2), "DOS SA DE CV", "601", "06000", "G03", 9]], headers))  # fmt: skip
    assert shown.rows.get(action="create").values["postal_code"] == "06000"
    assert "el vendedor «9» no existe" in shown.rows.get(action="error").message


# --- bad input: a Spanish message, nothing stored --------------------------------------------
def bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (300 * 1024 * 1024) + b"/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4 esto no es una hoja", "no es una hoja de cálculo"),
        (b"", "está vacío"),
        (b"\n\n  \n", "está vacío"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls (Excel 97-2003) no se admite"),
        (b"PK\x03\x04 roto", "no es un Libro de Excel válido"),
        (csv_bytes([["a", "b"]], headers=["Nombre", "Dirección postal"]), "ninguno de los encabezados"),
        (csv_bytes([[moral_rfc(1)]], headers=["RFC"]), "no tiene la columna «Clave»"),
        (csv_bytes([]), "solo tiene encabezados"),
        (xlsx([row(1), row(2), row(1)]), "aparece dos veces en el archivo (filas 2 y 4)"),
    ],
    ids=[
        "pdf",
        "empty",
        "blank",
        "xls",
        "broken-zip",
        "no-headers",
        "no-key-column",
        "only-headers",
        "duplicate",
    ],
)
def test_bad_files_are_refused_with_a_spanish_message_and_nothing_stored(company, content, message):
    connection = file_connection(company)
    before = snapshot(company)
    with pytest.raises(
        DomainError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
    ):
        preview(connection, content)
    assert snapshot(company) == before
    assert not CustomerImport.objects.exists()


def test_a_zip_bomb_is_refused_before_it_is_unzipped(company):
    connection = file_connection(company)
    content = bomb()
    assert len(content) < 1024 * 1024
    with pytest.raises(DomainError, match="bomba zip"):
        preview(connection, content)
    assert not CustomerImport.objects.exists()


def test_a_file_over_50_mb_is_refused_by_its_size(company):
    connection = file_connection(company)
    with pytest.raises(DomainError, match="máximo es 50 MB"):
        preview_customer_file(
            connection=connection, name="grande.csv", data=io.BytesIO(b"Clave\n"), size=50 * 1024 * 1024 + 1,
            source="upload",
        )  # fmt: skip
    assert not CustomerImport.objects.exists()


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://malo.example","clic")', "+SUM(A1)", "-2+3", "@SUM(A1)", "=1+1"]
)
def test_formulas_and_cells_starting_with_a_formula_sign_are_refused_per_row(company, cell):
    connection = file_connection(company)
    shown = preview(connection, xlsx([row(1, **{"Razón social": cell}), row(2)]))
    error = shown.rows.get(action="error")
    assert (error.row, error.column) == (2, "Razón social")
    assert "posible fórmula" in error.message
    assert not shown.rows.filter(values__name=cell).exists()


def test_a_phone_may_start_with_plus_and_digits(company):
    connection = file_connection(company)
    shown = preview(connection, xlsx([row(1, Teléfonos="+52 81 1234 5678")]))
    assert shown.rows.get().values["phones"] == "+52 81 1234 5678"


def test_escape_cell_neutralises_formula_signs_on_export():
    assert [escape_cell(v) for v in ["=1+1", "+52", "-3", "@x", "ok", None]] == [
        "'=1+1",
        "'+52",
        "'-3",
        "'@x",
        "ok",
        "",
    ]


# --- options per kind -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"match_key": "correo"}, "llave de coincidencia debe ser"),
        ({"ignored": ["clave"]}, "no puede ignorarse"),
        ({"ignored": ["color"]}, "Campos desconocidos en «Ignorar»: color"),
        ({"columns": {"sabor": "X"}}, "Campos desconocidos en el mapeo de columnas: sabor"),
        ({"ftp": {"host": "", "user": "u"}}, "Indique el servidor FTP"),
        ({"ftp": {"host": "127.0.0.1", "port": 70000, "user": "u"}}, "puerto FTP"),
        ({"entity": "NOEXISTE"}, "no existe en la empresa"),
    ],
)
def test_options_are_validated_for_the_customer_file_kind(company, options, message):
    with pytest.raises(ValidationError, match=message):
        file_connection(company, **options)


def test_the_same_file_an_hour_later_is_read_afresh(company):
    from datetime import timedelta

    from django.utils import timezone

    connection = file_connection(company)
    content = xlsx([row(1)])
    shown = preview(connection, content)
    CustomerImport.objects.filter(pk=shown.pk).update(created_at=timezone.now() - timedelta(minutes=61))
    assert preview(connection, content).pk != shown.pk
