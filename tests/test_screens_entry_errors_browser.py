"""The invoice entry screen puts each refusal beside what caused it (issue 19): the header input
or the line the server names in the error's details, in the seed's words, with the summary kept
at the bottom; the keyboard alone still goes from the refusal to the fix to the posted invoice."""

import os

import pytest

from demo.services import load_demo
from sales.models import SalesDocument
from tests import test_screens_browser as screens
from tests.test_screens_browser import CHROMIUM, SCREENSHOTS, login, put_in_stock

page = screens.page  # the same Chromium fixture as the other screen tests

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Chromium no está instalado (apt-get install chromium)."
    ),
]

NEXT_TO_CUSTOMER = "label:has(> input[name=customer]) .field-error"


def line_error(n):
    return f"#lines tr:nth-child({n}) .line-errors .field-error"


def open_entry(page, live_server):
    login(page, live_server.url, "cajero")
    page.click("text=Pachuca (contable)")
    page.click("#new-invoice")
    page.wait_for_selector("#lines tr")  # the screen's script has run (it adds the first line)


def test_line_errors_show_beside_their_line_and_the_keyboard_fixes_them(page, live_server):
    demo = load_demo()
    put_in_stock(demo.company)
    open_entry(page, live_server)
    assert page.evaluate("document.activeElement.name") == "customer"  # autofocus
    keyboard = page.keyboard
    keyboard.press("Control+A")  # the field starts at 0, the counter customer
    keyboard.type("1")
    for _ in range(5):  # moneda, TC, vendedor, sustituye a, then the first line's quantity
        keyboard.press("Enter")
    assert page.evaluate("document.activeElement.dataset.field") == "quantity"
    keyboard.type("0")
    keyboard.press("Enter")
    keyboard.type("A")
    for _ in range(4):  # precio, desc., IVA, and Enter on the last field adds a line
        keyboard.press("Enter")
    keyboard.type("2")
    keyboard.press("Enter")
    keyboard.type("NOEXISTE")

    # The unknown product is beside its line (the second), as the preview answers it.
    page.wait_for_selector(line_error(2))
    assert page.text_content(line_error(2)) == "No existe el producto o servicio con clave «NOEXISTE»."
    assert page.locator(line_error(1)).count() == 0
    assert page.get_attribute("#lines tr:nth-child(2) [data-field=product]", "aria-invalid") == "true"
    assert "NOEXISTE" in page.text_content("#message")  # the summary stays at the bottom

    keyboard.press("Control+Enter")  # accepting is refused the same way and leads to the line
    page.wait_for_function("document.activeElement.getAttribute('aria-invalid') === 'true'")
    assert page.evaluate("document.activeElement.closest('tr').rowIndex") == 2
    assert not SalesDocument.objects.filter(company=demo.company).exists()

    keyboard.press("Control+A")
    keyboard.type("B")
    # Now the first line's quantity: beside that line and its quantity; the second is clean.
    page.wait_for_selector(line_error(1))
    assert page.text_content(line_error(1)) == "Partida 1: la cantidad debe ser mayor que cero."
    assert page.locator(line_error(2)).count() == 0
    assert page.get_attribute("#lines tr:nth-child(1) [data-field=quantity]", "aria-invalid") == "true"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "invoice_entry_line_error.png"), full_page=True)

    keyboard.press("Control+Enter")
    page.wait_for_function("document.activeElement.dataset.field === 'quantity'")
    keyboard.press("Control+A")
    keyboard.type("1")
    page.wait_for_function("document.querySelector('[data-total=total]').textContent !== '0.00'")
    assert page.locator(".field-error").count() == 0
    keyboard.press("Control+Enter")
    page.wait_for_function(
        "location.search.includes('tab=todas') || document.querySelector('#message.error')"
    )
    assert "tab=todas" in page.url, page.text_content("#message")
    invoice = SalesDocument.objects.get(company=demo.company)
    assert list(invoice.lines.values_list("code", "quantity")) == [("A", 1), ("B", 2)]


def test_a_customer_number_the_entity_lacks_shows_beside_the_customer(page, live_server):
    demo = load_demo()
    open_entry(page, live_server)
    page.fill("input[name=customer]", "999")
    screens.type_line(page, 0, "1", "A")
    page.wait_for_selector(NEXT_TO_CUSTOMER)
    assert page.text_content(NEXT_TO_CUSTOMER) == "No existe el cliente 999 en esta entidad."
    assert page.get_attribute("input[name=customer]", "aria-invalid") == "true"
    # The summary names the field by its label, not by the API's name for it.
    assert page.text_content("#message") == "Cliente: No existe el cliente 999 en esta entidad."
    page.fill("input[name=customer]", "1")
    page.wait_for_function("!document.querySelector('.field-error')")
    assert "UNIVERSIDAD ROBOTICA ESPAÑOLA" in page.text_content("#customer-info")
    assert not SalesDocument.objects.filter(company=demo.company).exists()
