"""The sync event viewer in a real browser (Debian's Chromium driven by Playwright): the ops user
logs in, lands on the viewer, reads the demo's QR runs, filters, follows an event to its
customer, and runs the connection now."""

import os

import pytest

from demo.services import load_demo, load_sync_demo
from sales.models import Customer
from sync.models import Run
from tests.test_screens_browser import CHROMIUM, DEMO_PASSWORD, page  # noqa: F401 - page: the browser fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Chromium no está instalado (apt-get install chromium)."
    ),
]


def test_ops_user_watches_the_demo_sync_and_runs_it_now(page, live_server, settings):  # noqa: F811
    settings.SYNC_DEMO_SOURCE = True
    demo = load_demo()
    connection = load_sync_demo(demo.company, source_url=f"{live_server.url}/sync/demo-qr")
    first = Run.objects.get(connection=connection)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "operaciones")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/sync/eventos/")

    row = page.locator(f"#connections tr[data-connection='{connection.pk}']")
    assert "CONTPAQi QR (demo)" in row.inner_text() and "Activa" in row.inner_text()
    assert "Parcial" in page.locator("#runs").inner_text()
    assert "00001" in page.locator("#events").inner_text()

    page.select_option("select[name=level]", "error")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**level=error**")
    assert page.locator("#events tbody tr").count() == 1  # the bad postal code (the summary is a warning)
    page.select_option("select[name=level]", "")
    page.click("#filters button[type=submit]")

    customer = Customer.objects.get(company=demo.company, rfc="IIA040805DZ4")
    page.click(f"#events a[href='/admin/sales/customer/{customer.pk}/change/']")
    page.wait_for_url("**/admin/**")
    page.goto(f"{live_server.url}/sync/eventos/")

    page.click(f"#connections tr[data-connection='{connection.pk}'] button.run-now")
    page.wait_for_selector("[role=status]")
    second = Run.objects.exclude(pk=first.pk).get(connection=connection)
    assert (second.trigger, second.result, second.message) == ("manual", "success", "Sin cambios")
    assert "Sin cambios" in page.locator("#events").inner_text()

    page.click(f"#connections tr[data-connection='{connection.pk}'] button.toggle")
    page.wait_for_selector("[role=status]")
    assert "Inactiva" in page.locator(f"#connections tr[data-connection='{connection.pk}']").inner_text()


def test_accountant_previews_a_customer_file_in_the_viewer_and_applies_it(page, live_server, tmp_path):  # noqa: F811
    """Issue 13: upload → "Vista previa" (nothing written) → "Aplicar" → the customers are there."""
    from demo.services import DEMO_CUSTOMER_FILE, load_customer_file_demo

    demo = load_demo()
    connection = load_customer_file_demo(demo.company)
    connection.imports.all().delete()
    path = tmp_path / "clientes.csv"
    path.write_bytes(DEMO_CUSTOMER_FILE.encode("cp1252"))
    before = Customer.objects.filter(company=demo.company).count()

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "contador")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/sync/eventos/")
    row = page.locator(f"#connections tr[data-connection='{connection.pk}']")
    row.locator("input[type=file]").set_input_files(str(path))
    row.locator("button.preview").click()
    page.wait_for_url("**/sync/importaciones/**")

    summary = page.locator("#summary").inner_text()
    assert "2 altas" in " ".join(summary.split())
    table = page.locator("#preview-rows").inner_text()
    assert "FABRICA DE ABARROTES DEL CENTRO" in table and "dígito verificador" in table
    assert Customer.objects.filter(company=demo.company).count() == before

    page.click("#apply")
    page.wait_for_url("**/sync/eventos/**")
    assert "en curso" in page.locator("[role=status]").inner_text()
    assert Customer.objects.filter(company=demo.company).count() == before + 2
    assert Customer.objects.filter(company=demo.company, external_key="EXT-002", rfc="MEGR8207154K5").exists()
