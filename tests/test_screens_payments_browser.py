"""The cashier's «Cobros» screen in a real browser: customer → open invoices with balances →
amounts → post (the payment and its complement go through the API)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from cfdi.models import CfdiDocument
from demo.services import load_demo
from sales.documents import LineRequest, create_document
from sales.models import CustomerPayment, SalesEntity
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


def credit_invoice(company, code, quantity):
    entity = SalesEntity.objects.get(company=company, code="PACHUCA")
    document, _ = create_document(
        kind="invoice",
        entity=entity,
        customer=entity.customers.get(number=1),
        date=timezone.localdate(),
        payment="credit",
        lines=[LineRequest(code, Decimal(quantity))],
    )
    return post_invoice(document=document)


def test_cashier_applies_one_payment_to_two_open_invoices(page, live_server):  # noqa: F811
    demo = load_demo()
    put_in_stock(demo.company)
    first = credit_invoice(demo.company, "B", "100")  # 1,160.00
    second = credit_invoice(demo.company, "A", "10")  # 133.40
    login(page, live_server.url, "cajero")
    page.click("text=Pachuca (contable)")
    page.click("#payments")
    page.select_option("#customer", label=f"1 {first.customer_name} ({first.customer_rfc})")
    page.wait_for_selector("#open-invoices")
    rows = page.locator("#open-invoices tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("[data-show=balance]").text_content() == "1160.00"

    rows.nth(0).locator("[data-field=amount]").fill("500")
    rows.nth(1).locator("[data-action=full]").click()
    page.wait_for_function("document.getElementById('applied').textContent === '633.40'")
    assert page.input_value("[name=amount]") == "633.40"
    page.fill("[name=operation_number]", "SPEI-123")
    page.fill("[name=payer_bank_code]", "002")
    page.fill("[name=payer_account]", "002180700123456789")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "payment_entry.png"), full_page=True)
    page.click("#accept")
    page.wait_for_function("document.getElementById('message').className !== ''", timeout=60000)
    assert page.get_attribute("#message", "class") == "ok", page.text_content("#message")
    assert "aplicado por 633.40 MXN" in page.text_content("#message")
    assert rows.nth(0).locator("[data-show=installment]").text_content() == "1"
    assert rows.nth(0).locator("[data-show=remaining_balance]").text_content() == "660.00"

    payment = CustomerPayment.objects.get()
    assert (payment.status, payment.amount, payment.operation_number) == (
        "posted",
        Decimal("633.40"),
        "SPEI-123",
    )
    assert Receivable.objects.get(origin=first.origin_reference).balance == Decimal("660.00")
    assert Receivable.objects.get(origin=second.origin_reference).balance == 0
    assert (
        CfdiDocument.objects.get(source_model="sales.customerpayment", source_id=payment.pk).status
        == "stamped"
    )


def test_an_amount_above_the_balance_shows_the_message_and_posts_nothing(page, live_server):  # noqa: F811
    demo = load_demo()
    put_in_stock(demo.company)
    invoice = credit_invoice(demo.company, "B", "10")  # 116.00
    login(page, live_server.url, "cajero")
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    page.goto(f"{live_server.url}/caja/cobros/{entity.pk}/?cliente={invoice.customer_id}")
    page.locator("#open-invoices tbody tr").nth(0).locator("[data-field=amount]").fill("200")
    page.click("#accept")
    page.wait_for_function("document.getElementById('message').className === 'error'")
    assert "excede el saldo de la factura" in page.text_content("#message")
    assert not CustomerPayment.objects.exists()
