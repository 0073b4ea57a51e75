"""The cashier's "Devolver" and "Rebajar" from an invoice, in a real browser."""

from decimal import Decimal

import pytest
from django.utils import timezone

from demo.services import load_demo
from sales.documents import LineRequest, create_document
from sales.models import CreditNote, SalesEntity
from sales.posting import post_invoice
from sales.receivables.models import Receivable
from tests.test_screens_browser import CHROMIUM, SCREENSHOTS, login, page, put_in_stock  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not __import__("os").path.exists(CHROMIUM),
        reason="Chromium no está instalado (apt-get install chromium).",
    ),
]


def credit_invoice(company):
    entity = SalesEntity.objects.get(company=company, code="PACHUCA")
    document, _ = create_document(
        kind="invoice",
        entity=entity,
        customer=entity.customers.get(number=1),
        date=timezone.localdate(),
        payment="credit",
        lines=[LineRequest("A", Decimal("100")), LineRequest("B", Decimal("200"))],
    )
    return post_invoice(document=document)


def test_cashier_returns_100_kg_of_b_from_the_invoice_list(page, live_server):  # noqa: F811
    demo = load_demo()
    put_in_stock(demo.company)
    invoice = credit_invoice(demo.company)
    login(page, live_server.url, "cajero")
    page.click("text=Pachuca (contable)")
    page.locator("#invoices tbody tr").first.locator("text=Devolver").click()
    page.wait_for_function("document.querySelector('[data-total=total]').textContent === '3654.00'")

    rows = page.locator("#lines tr")
    rows.nth(0).locator("[data-field=remove]").check()  # nothing of A comes back
    rows.nth(1).locator("[data-field=quantity]").fill("100")
    page.wait_for_function("document.querySelector('[data-total=total]').textContent === '1160.00'")
    assert rows.nth(1).locator("[data-show=iva_display]").text_content() == "16:160.00"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "credit_note_entry.png"), full_page=True)

    page.click("#accept")
    page.wait_for_function("document.getElementById('message').className === 'ok'")
    note = CreditNote.objects.get(invoice=invoice)
    assert (note.kind, note.status, note.total) == ("return", "emitted", Decimal("1160.00"))
    assert Receivable.objects.get(origin=invoice.origin_reference).balance == Decimal("2494.00")


def test_rebate_above_the_price_shows_the_message_and_saves_nothing(page, live_server):  # noqa: F811
    demo = load_demo()
    put_in_stock(demo.company)
    invoice = credit_invoice(demo.company)
    login(page, live_server.url, "cajero")
    page.goto(f"{live_server.url}/caja/facturas/factura/{invoice.pk}/rebajar/")
    page.locator("#lines tr").nth(1).locator("[data-field=unit_price]").fill("12")
    page.wait_for_function("document.getElementById('message').className === 'error'")
    assert "no debe ser mayor al precio establecido en la factura asociada" in page.text_content("#message")
    page.click("#accept")
    page.wait_for_timeout(300)
    assert not CreditNote.objects.exists()
