"""A working day in a real browser (issue 19): the cashier's refused credit sale and the draft
that failed and is fixed, the accountant's cancellation and balanza, the operations user's landing.
Each test leaves a screenshot of its final page in var/screenshots/ (git-ignored)."""

import os
from decimal import Decimal

import pytest

from demo.services import load_demo
from sales.models import SalesDocument
from tests import test_screens_browser as screens
from tests.test_screens_browser import CHROMIUM, SCREENSHOTS, login, put_in_stock, type_line

page = screens.page  # the same Chromium fixture as the other screen tests

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Chromium no está instalado (apt-get install chromium)."
    ),
]


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def login_as(page, base_url, username, lands_on):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-2026")
    page.click("button[type=submit]")
    page.wait_for_url(lands_on)


def test_cashier_sells_contado_three_lines_with_ieps_into_two_accounts(page, live_server):
    from cashbank.models import CashMovement
    from tests.factories_ledgers import opening_stock

    demo = load_demo()
    put_in_stock(demo.company)
    from inventory.models import Product

    opening_stock(demo.company, [(Product.objects.get(company=demo.company, code="CERV"), 50, "12")])
    login(page, live_server.url, "cajero")
    page.click("text=Pachuca (contable)")
    page.click("#new-invoice")
    type_line(page, 0, "2", "A")
    page.locator("#lines tr").nth(0).locator("[data-field=iva_rate]").press("Enter")
    type_line(page, 1, "3", "B")
    page.locator("#lines tr").nth(1).locator("[data-field=iva_rate]").press("Enter")
    type_line(page, 2, "6", "CERV")
    # 2 × 11.50 + 3 × 10.00 + 6 × 22.00; IEPS 26.5% of 132.00; IVA 16% of 53.00 and of 166.98.
    page.wait_for_function("document.querySelector('[data-total=total]').textContent === '255.18'")
    assert [page.text_content(f"[data-total={k}]") for k in ("subtotal", "ieps", "iva")] == [
        "185.00",
        "34.98",
        "35.20",
    ]

    page.select_option("select[name=collection_account]", label="CAJA — Caja general (MXN)")
    page.click("#add-collection")
    other = page.locator("#more-collections .extra-collection").first
    other.locator("[data-c=account]").select_option(label="BBVA-MXN — BBVA pesos (MXN)")
    other.locator("[data-c=amount]").fill("100.00")
    other.locator("[data-c=method]").select_option("03")
    other.locator("[data-c=counterparty_bank]").fill("002")
    other.locator("[data-c=counterparty_account]").fill("002180012345678901")
    page.fill("input[name=received]", "200")
    assert page.text_content("#change") == "44.82"  # the cash box takes 255.18 − 100.00 = 155.18
    shot(page, "day_contado_two_accounts_entry")
    page.click("#accept")
    page.wait_for_function(
        "location.search.includes('tab=todas') || document.querySelector('#message.error')"
    )
    assert "tab=todas" in page.url, page.text_content("#message")

    invoice = SalesDocument.objects.get(company=demo.company)
    row = page.locator("#invoices tbody tr").first
    assert f"{invoice.series}1" in row.text_content() and "255.18" in row.text_content()
    assert row.locator("a[title='Archivo PDF']").count() == 1
    shot(page, "day_contado_two_accounts_list")
    collected = sorted(
        CashMovement.objects.filter(company=demo.company).values_list("account__code", "amount", "method")
    )
    assert collected == [("BBVA-MXN", Decimal("100.00"), "03"), ("CAJA", Decimal("155.18"), "01")]


def test_a_credit_sale_to_the_counter_customer_is_refused_with_the_seeds_message(page, live_server):
    demo = load_demo()
    put_in_stock(demo.company)
    login(page, live_server.url, "cajero")
    page.click("text=Pachuca (contable)")
    page.click("#new-invoice")
    page.fill("input[name=customer]", "0")
    page.select_option("select[name=payment]", "credit")
    type_line(page, 0, "1", "A")
    page.click("#accept")
    page.wait_for_selector("#message.error")
    seeds_words = "no se pueden generar si el cliente es el genérico (cliente con el número cero)"
    assert seeds_words in page.text_content("#message")
    # Beside the customer it is about, not only in the block at the bottom.
    beside = page.text_content("label:has(> input[name=customer]) .field-error")
    assert seeds_words in beside
    assert page.get_attribute("input[name=customer]", "aria-invalid") == "true"
    shot(page, "day_credit_to_counter_refused")
    assert not SalesDocument.objects.filter(company=demo.company).exists()


def test_a_draft_that_failed_is_fixed_and_posted(page, live_server):
    from tests.factories import ProductFactory

    demo = load_demo()
    put_in_stock(demo.company)
    ProductFactory(company=demo.company, code="SINEXIS", list_price=Decimal("10.00"))
    login(page, live_server.url, "cajero")
    page.click("text=Pachuca (contable)")
    page.click("#new-invoice")
    page.fill("input[name=customer]", "1")
    page.select_option("select[name=payment]", "credit")
    type_line(page, 0, "3", "SINEXIS")
    page.click("#accept")
    page.wait_for_selector("#message.error")
    assert "existencia" in page.text_content("#message")
    # The stock refusal names the product: it shows beside the line that sells it.
    assert "existencia" in page.text_content("#lines tr:nth-child(1) .line-errors")
    draft = SalesDocument.objects.get(company=demo.company)
    assert draft.status == "draft"

    # Later, from the list: Borradores › Abrir borrador, correct the line and accept.
    page.goto(f"{live_server.url}/caja/facturas/{draft.entity_id}/?tab=borradores&period=hoy")
    page.click("text=Abrir borrador")
    page.wait_for_url(f"**/borrador/{draft.pk}/")
    assert page.input_value("#lines tr >> nth=0 >> [data-field=product]") == "SINEXIS"
    page.fill("#lines tr >> nth=0 >> [data-field=product]", "A")
    page.wait_for_function("document.querySelector('[data-total=total]').textContent !== '0.00'")
    page.click("#accept")
    page.wait_for_url("**/caja/facturas/*/?tab=todas&period=hoy")
    row = page.locator("#invoices tbody tr").first
    assert "Generada" in row.text_content()
    shot(page, "day_draft_fixed_and_posted")
    invoice = SalesDocument.objects.get(company=demo.company)  # the same document, not a second one
    assert (invoice.pk, invoice.status, invoice.number) == (draft.pk, "generated", 1)
    assert list(invoice.lines.values_list("code", flat=True)) == ["A"]


def test_the_accountant_cancels_an_invoice_and_sees_it_red_under_canceladas(page, live_server):
    demo = load_demo(activity=True)
    invoice = (
        SalesDocument.objects.filter(
            company=demo.company, kind="invoice", status="generated", payment="credit"
        )
        .order_by("pk")
        .first()
    )
    page.set_viewport_size({"width": 1366, "height": 900})  # the accountant's laptop
    login_as(page, live_server.url, "contador", "**/admin/")  # accountants land in the admin
    # The admin's list opens on «Todas» of «Hoy»; the accountant picks the invoice and cancels it.
    page.goto(f"{live_server.url}/admin/sales/salesdocument/?entity={invoice.entity_id}")
    assert page.locator(".seed-tabs a.selected").all_text_contents()[:3] == [
        invoice.entity.name,
        "Todas",
        "Hoy",
    ]
    # The invoice's page offers the seed's processes as buttons.
    page.click(f"#result_list a[href*='/{invoice.pk}/change/']")
    page.wait_for_url(f"**/{invoice.pk}/change/**")
    assert page.locator("form.detail-action button").all_text_contents() == [
        "Sellar", "Enviar XML y PDF", "Enlazar CFDI externo", "Devolver", "Rebajar",
        "Cancelar (motivo 02)", "Cancelar (motivo 03)",
    ]  # fmt: skip
    shot(page, "day_invoice_page_admin")
    page.go_back()
    page.check(f"input[name=_selected_action][value='{invoice.pk}']")
    page.select_option("select[name=action]", "cancel_not_carried_out")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    invoice.refresh_from_db()
    assert invoice.status == "cancelled", page.text_content(".messagelist")

    page.click(".seed-tabs a[data-key=canceladas]")
    page.wait_for_url("**tab=canceladas**")
    row = page.locator("#result_list tbody tr", has_text=invoice.customer_name[:20]).first
    assert "Cancelada" in row.locator("td.field-st").text_content()
    for cell in ("th.field-folio a", "td.field-total_shown", "td.field-customer_shown"):
        colour = row.locator(cell).evaluate("cell => getComputedStyle(cell).color")
        assert colour == "rgb(192, 57, 43)", cell  # the seed's red, on the whole row
    shot(page, "day_cancelled_in_red_admin")
    # At 1366 px nothing is cut: the page does not scroll sideways and the last column is in view.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    box = page.locator("#result_list thead th").last.bounding_box()
    assert box["x"] + box["width"] <= 1366

    page.goto(f"{live_server.url}/caja/facturas/{invoice.entity_id}/?tab=canceladas&period=hoy")
    row = page.locator("#invoices tbody tr", has_text=invoice.customer_name).first
    assert "Cancelada" in row.text_content()
    colour = row.locator("td").first.evaluate("cell => getComputedStyle(cell).color")
    assert colour == "rgb(192, 57, 43)"  # the list's red
    shot(page, "day_cancelled_in_red")


def test_the_trial_balance_balances_and_exports(page, live_server):
    load_demo(activity=True)
    login_as(page, live_server.url, "contador", "**/admin/")  # accountants land in the admin
    page.goto(f"{live_server.url}/admin/")
    page.click("text=Balanza de comprobación")
    page.wait_for_url("**/reportes/balanza/")
    assert "La balanza cuadra" in page.text_content("#report-note")
    debits, credits = (page.text_content(f"#report tfoot td:nth-child({n})") for n in (4, 5))
    assert debits == credits and debits not in ("", "0.00")
    with page.expect_download() as xlsx:
        page.click("text=Exportar a Excel (XLSX)")
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    with page.expect_download() as pdf:
        page.click("text=Exportar a PDF")
    assert pdf.value.suggested_filename.endswith(".pdf")
    shot(page, "day_trial_balance")
    page.locator("#report tbody tr", has_text="Caja general").locator("a").first.click()
    page.wait_for_url("**/reportes/balanza/cuenta/**")
    assert page.locator("#report tbody tr a").count() > 0
    shot(page, "day_trial_balance_drill_down")
    for report in ("ventas-por-dia", "antiguedad", "existencias"):
        page.goto(f"{live_server.url}/reportes/{report}/")
        assert page.locator("#report tbody tr").count() > 0 and page.locator("svg.chart rect").count() > 0
        shot(page, f"day_report_{report}")


def test_the_operations_user_lands_on_the_sync_viewer(page, live_server):
    load_demo(activity=True)
    login_as(page, live_server.url, "operaciones", "**/sync/eventos/**")
    assert page.url.split(live_server.url)[1].startswith("/sync/eventos/")
    shot(page, "day_operations_sync_viewer")
