"""Customer file import (issue 13) in a real browser (Debian's Chromium driven by Playwright), on
the sync viewer's upload: the seed's three behaviours on one file with an ignored field, the
preview writing nothing, "Aplicar" applying exactly what was shown, and bad files refused in
Spanish with nothing changed."""

import os

import pytest

from sales.models import Customer, SalesEntity
from sync.models import CustomerImport, Event, Run
from tests.factories import CustomerFactory
from tests.factories_customer_file import (
    HEADERS,
    csv_bytes,
    file_connection,
    moral_rfc,
    ratio_bomb,
    row,
    xlsx,
)
from tests.test_screens_browser import CHROMIUM, page  # noqa: F401 - page: the browser fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Chromium no está instalado (apt-get install chromium)."
    ),
]


def state(company) -> list[dict]:
    return list(Customer.objects.filter(company=company).order_by("pk").values())


def here(entity, n, **fields):
    values = dict(zip(HEADERS, row(n), strict=True))
    defaults = {
        "external_key": values["Clave"], "rfc": values["RFC"], "name": values["Razón social"],
        "regimen_fiscal": "601", "postal_code": "06000", "uso_cfdi": "G03", "forma_pago": "03",
        "email": values["Correo electrónico"], "phones": "8181234567", "credit_days": 30,
    }  # fmt: skip
    defaults.update(fields)
    return CustomerFactory(entity=entity, number=n + 100, **defaults)


def log_in(page, live_server, user):  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "secreto-123")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/sync/eventos/")


def choose_and_preview(page, connection, path):  # noqa: F811
    row_ = page.locator(f"#connections tr[data-connection='{connection.pk}']")
    row_.locator("input[type=file]").set_input_files(str(path))
    with page.expect_navigation():
        row_.locator("button.preview").click()


def test_the_seeds_three_behaviours_an_ignored_field_and_apply_exactly_what_was_shown(
    page,  # noqa: F811
    live_server,
    company,
    accountant,
    tmp_path,
):
    connection = file_connection(company, ignored=["email"])
    entity = SalesEntity.objects.get(company=company)
    same = here(entity, 1)
    differs = here(entity, 2, credit_days=0, email="cobranza@cliente.mx")
    absent = here(entity, 3, name="NO ESTA EN EL ARCHIVO SA DE CV", credit_days=7)
    path = tmp_path / "clientes.xlsx"
    path.write_bytes(xlsx([row(1), row(2, **{"Correo electrónico": "otro@cliente.mx"}), row(4)]))
    before = state(company)

    log_in(page, live_server, accountant)
    choose_and_preview(page, connection, path)
    page.wait_for_url("**/sync/importaciones/**")

    summary = " ".join(page.locator("#summary").inner_text().split())
    assert "1 altas, 1 actualizaciones, 1 sin cambios, 0 con error" in summary
    rows = page.locator("#preview-rows tbody tr")
    assert rows.count() == 2
    update = page.locator("#preview-rows tr.update").inner_text()
    assert "C000002" in update and "Días de crédito: 0 → 30" in update
    assert "Correo" not in update and "otro@cliente.mx" not in page.content()  # ignored: not even shown
    assert "CLIENTE 4 SA DE CV" in page.locator("#preview-rows tr.create").inner_text()
    assert state(company) == before  # the preview wrote nothing
    assert not Run.objects.exists()

    # Between the preview and "Aplicar" the unchanged customer is edited here: what was shown for
    # it ("sin cambios") is what is applied, so the file does not overwrite the edit.
    Customer.objects.filter(pk=same.pk).update(name="EDITADO AQUI SA DE CV")
    page.click("#apply")
    page.wait_for_url("**/sync/eventos/**")
    assert "en curso" in page.locator("[role=status]").inner_text()

    run = Run.objects.get(connection=connection)
    assert (run.result, run.created, run.updated, run.unchanged, run.failed) == ("success", 1, 1, 1, 0)
    differs.refresh_from_db()
    assert (differs.credit_days, differs.email) == (30, "cobranza@cliente.mx")  # e-mail: "Ignorar"
    new = Customer.objects.get(company=company, external_key="C000004")
    assert (new.rfc, new.name, new.email) == (moral_rfc(4), "CLIENTE 4 SA DE CV", "")
    same.refresh_from_db()
    absent.refresh_from_db()
    assert same.name == "EDITADO AQUI SA DE CV"
    assert (absent.name, absent.credit_days) == ("NO ESTA EN EL ARCHIVO SA DE CV", 7)
    # Nothing else moved: every field of the others is as it was.
    after = {c["id"]: c for c in state(company)}
    for old in before:
        if old["id"] == differs.pk:
            assert {k for k in old if old[k] != after[old["id"]][k]} <= {"credit_days", "updated_at"}
        elif old["id"] == same.pk:
            assert {k for k in old if old[k] != after[old["id"]][k]} <= {"name", "updated_at"}
        else:
            assert after[old["id"]] == old
    page.goto(f"{live_server.url}/sync/importaciones/{CustomerImport.objects.get().pk}/")
    assert page.locator("#apply").count() == 0  # applied: no second "Aplicar"
    assert "Aplicada" in page.locator("#status").inner_text()


BAD_FILES = [
    ("factura.csv", b"%PDF-1.4 no es una hoja", "El archivo no es una hoja de cálculo"),
    ("vacio.csv", b"", "El archivo está vacío."),
    ("otra-hoja.csv", csv_bytes([["a", "b"]], headers=["Nombre", "Domicilio"]),
     "La hoja no tiene ninguno de los encabezados configurados"),
    ("bomba.xlsx", ratio_bomb(), "posible «bomba zip»"),
    ("repetidos.xlsx", xlsx([row(1), row(2), row(1)]), "La llave «C000001» aparece dos veces en el archivo (filas 2 y 4)"),
    ("grande.csv", csv_bytes([row(1)]) + b" " * (1024 * 1024), "El archivo pesa 1.0 MB; el máximo es 1 MB"),
]  # fmt: skip


def test_bad_files_are_refused_in_spanish_on_the_viewer_and_change_nothing(
    page,  # noqa: F811
    live_server,
    company,
    accountant,
    tmp_path,
    settings,
):
    # The limit's mechanism at 1 MB (the real 50 MB: tests/test_sync_customer_file_bad_input.py).
    settings.CUSTOMER_FILE_MAX_BYTES = 1024 * 1024
    connection = file_connection(company)
    here(SalesEntity.objects.get(company=company), 1, email="viejo@example.mx")
    before = state(company)
    log_in(page, live_server, accountant)

    for name, content, message in BAD_FILES:
        path = tmp_path / name
        path.write_bytes(content)
        choose_and_preview(page, connection, path)
        page.wait_for_url("**/sync/eventos/")
        notice = page.locator("[role=status]").inner_text()
        assert notice.startswith(f"«{name}»: ") and message in notice, notice
        assert state(company) == before
        assert not CustomerImport.objects.exists() and not Run.objects.exists() and not Event.objects.exists()

    # A formula is refused on its row (the rest of the file is previewed), never shown as a formula.
    formula = '=HYPERLINK("http://malo.example","Ver")'
    path = tmp_path / "formula.xlsx"
    path.write_bytes(
        xlsx([row(1, **{"Correo electrónico": "nuevo@example.mx", "Razón social": formula}), row(2)])
    )
    choose_and_preview(page, connection, path)
    page.wait_for_url("**/sync/importaciones/**")
    error = page.locator("#preview-rows tr.error").inner_text()
    assert "Razón social" in error and "posible fórmula" in error
    assert "HYPERLINK" not in page.content()
    assert "1 altas, 0 actualizaciones" in " ".join(page.locator("#summary").inner_text().split())
    page.click("#apply")
    page.wait_for_url("**/sync/eventos/**")
    assert state(company)[: len(before)] == before  # its row not half applied: the e-mail stays
    assert Customer.objects.filter(company=company, external_key="C000002").exists()
    assert "HYPERLINK" not in page.content()
