"""The cashier's screens in a real browser (Debian's Chromium driven by Playwright)."""

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from demo.services import DEMO_PASSWORD, load_demo
from sales.models import SalesDocument

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Chromium no está instalado (apt-get install chromium)."
    ),
]


@pytest.fixture
def page(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="es-MX")
        yield page
        browser.close()


def login(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/caja/facturas/")


def type_line(page, row, quantity, code):
    line = page.locator("#lines tr").nth(row)
    line.locator("[data-field=quantity]").fill(quantity)
    line.locator("[data-field=product]").fill(code)


def put_in_stock(company):
    from inventory.models import Product
    from tests.factories_ledgers import opening_stock

    opening_stock(company, [(Product.objects.get(company=company, code=c), 500, "5") for c in ("A", "B")])


def test_cashier_enters_the_seeds_invoice_with_the_keyboard(page, live_server):
    demo = load_demo()
    put_in_stock(demo.company)
    login(page, live_server.url, "cajero")
    page.click("text=Pachuca (contable)")
    page.click("#new-invoice")

    page.fill("input[name=customer]", "1")
    page.select_option("select[name=payment]", "credit")
    type_line(page, 0, "100", "A")
    page.locator("#lines tr").nth(0).locator("[data-field=iva_rate]").press("Enter")  # Enter adds a line
    type_line(page, 1, "200", "B")
    page.wait_for_function("document.querySelector('[data-total=total]').textContent === '3654.00'")

    assert page.text_content("[data-total=subtotal]") == "3150.00"
    assert page.text_content("[data-total=iva]") == "504.00"
    assert "UNIVERSIDAD ROBOTICA ESPAÑOLA" in page.text_content("#customer-info")
    assert page.locator("#lines tr").nth(1).locator("[data-show=unit]").text_content() == "KG"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "invoice_entry.png"), full_page=True)

    page.locator("#lines tr").nth(1).locator("[data-field=product]").press("Control+Enter")
    page.wait_for_url("**/caja/facturas/*/?tab=todas&period=hoy")
    row = page.locator("#invoices tbody tr").first
    assert "3654.00" in row.text_content() and "Generada" in row.text_content()
    page.screenshot(path=str(SCREENSHOTS / "invoice_list.png"), full_page=True)

    invoice = SalesDocument.objects.get(company=demo.company, kind="invoice")
    assert (invoice.number, invoice.payment, invoice.total, invoice.status) == (
        1,
        "credit",
        3654,
        "generated",
    )
    assert invoice.stock_movement is not None


def test_cash_sale_at_the_counter_is_collected_into_the_chosen_box(page, live_server):
    from cashbank.models import CashMovement

    demo = load_demo()
    put_in_stock(demo.company)
    login(page, live_server.url, "cajero")
    page.click("text=Pachuca (contable)")
    page.click("#new-invoice")
    assert page.is_visible("#collection")
    page.select_option("select[name=collection_account]", label="CAJA — Caja general (MXN)")
    type_line(page, 0, "2", "A")
    page.wait_for_function("document.querySelector('[data-total=total]').textContent === '26.68'")
    page.click("#accept")
    page.wait_for_url("**/caja/facturas/*/?tab=todas&period=hoy")
    movement = CashMovement.objects.get(company=demo.company)
    assert (movement.account.code, movement.amount, movement.method) == ("CAJA", Decimal("26.68"), "01")


def test_bad_input_shows_the_spanish_message_and_saves_nothing(page, live_server):
    load_demo()
    login(page, live_server.url, "cajero")
    page.click("text=Pachuca (contable)")
    page.click("#new-invoice")
    page.select_option("select[name=payment]", "credit")  # customer 0 is the counter customer
    type_line(page, 0, "1", "A")
    page.wait_for_function(
        "document.getElementById('message').textContent.includes('cliente es el genérico')"
    )
    page.click("#accept")
    page.wait_for_timeout(300)
    assert "cliente es el genérico" in page.text_content("#message")
    assert not SalesDocument.objects.exists()
