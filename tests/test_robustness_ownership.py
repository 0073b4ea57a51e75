"""Issue 21: the rows a posted invoice wrote belong to it. Cancelling its receivable, cash
movement, stock movement or póliza on its own is refused, naming the invoice, and changes
nothing; the invoice's own cancellation still undoes them all. And generate-invoice with the
same Idempotency-Key answers the first invoice again."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from accounting.models import JournalEntry
from cashbank.models import CashBankAccount, CashMovement
from cfdi.models import Csd
from demo.services import load_demo
from inventory.models import Product, StockLevel, StockMovement
from sales.models import Customer, SalesDocument, SalesEntity
from sales.receivables.models import Receivable
from tests.factories_ledgers import opening_stock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verified_books")]
DAY = date(2026, 11, 20)


@pytest.fixture
def demo():
    demo = load_demo()
    Csd.objects.filter(company=demo.company).update(active=False)  # no CFDI: cancelling needs no SAT
    opening_stock(
        demo.company,
        [(Product.objects.get(company=demo.company, code=c), 1000, "5") for c in ("A", "B")],
        "ALM",
    )
    return demo


@pytest.fixture
def client(demo, api_as):
    return api_as(get_user_model().objects.get(username="contador"))


def posted_invoice(client, demo, payment="credit"):
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    body = {
        "entity": entity.pk,
        "customer": 1,
        "date": str(DAY),
        "payment": payment,
        "lines": [{"product": "A", "quantity": "10"}],
    }
    invoice = client.post("/api/sales/invoices/", body, format="json").json()
    collections = []
    if payment == "cash":
        caja = CashBankAccount.objects.get(company=demo.company, code="CAJA")
        collections = [{"account": caja.pk, "amount": invoice["total"]}]
    response = client.post(
        f"/api/sales/invoices/{invoice['id']}/post/", {"collections": collections}, format="json"
    )
    assert response.status_code == 200, response.json()
    return SalesDocument.objects.get(pk=invoice["id"])


def snapshot(invoice):
    origin = invoice.origin_reference
    return (
        SalesDocument.objects.get(pk=invoice.pk).status,
        sorted(Receivable.objects.filter(origin=origin).values_list("status", flat=True)),
        sorted(CashMovement.objects.filter(origin=origin).values_list("status", flat=True)),
        sorted(StockMovement.objects.filter(origin=origin).values_list("status", flat=True)),
        sorted(JournalEntry.objects.filter(origin=origin).values_list("status", flat=True)),
        list(StockLevel.objects.order_by("pk").values_list("quantity", flat=True)),
    )


def refused(response, number):
    assert response.status_code == 409, response.json()
    payload = response.json()
    assert payload["code"] == "pertenece_a_documento"
    assert f"pertenece a la factura A-{number}; cancélelo desde la factura." in payload["message"]


def test_a_credit_invoices_rows_cannot_be_cancelled_on_their_own(demo, client):
    invoice = posted_invoice(client, demo)
    origin = invoice.origin_reference
    before = snapshot(invoice)
    receivable = Receivable.objects.get(origin=origin)
    refused(client.post(f"/api/sales/receivables/{receivable.pk}/cancel/"), invoice.number)
    assert (
        "Esta cuenta por cobrar"
        in client.post(f"/api/sales/receivables/{receivable.pk}/cancel/").json()["message"]
    )
    for entry in JournalEntry.objects.filter(origin=origin):
        refused(client.post(f"/api/accounting/entries/{entry.pk}/cancel/"), invoice.number)
    movement = StockMovement.objects.get(origin=origin)
    refused(client.post(f"/api/inventory/stock-movements/{movement.pk}/cancel/"), invoice.number)
    assert snapshot(invoice) == before

    cancelled = client.post(f"/api/sales/invoices/{invoice.pk}/cancel/", {}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    assert Receivable.objects.get(origin=origin).status == "cancelled"
    assert set(JournalEntry.objects.filter(origin=origin).values_list("status", flat=True)) == {"cancelled"}
    assert StockMovement.objects.get(origin=origin).status == "cancelled"


def test_a_cash_invoices_movement_cannot_be_cancelled_on_its_own(demo, client):
    invoice = posted_invoice(client, demo, payment="cash")
    before = snapshot(invoice)
    movement = CashMovement.objects.get(origin=invoice.origin_reference)
    response = client.post(f"/api/cashbank/movements/{movement.pk}/cancel/")
    refused(response, invoice.number)
    assert response.json()["message"].startswith("Este movimiento pertenece a la factura A-")
    assert snapshot(invoice) == before
    assert client.post(f"/api/sales/invoices/{invoice.pk}/cancel/", {}, format="json").status_code == 200
    assert CashMovement.objects.get(pk=movement.pk).status == "cancelled"


def test_an_invoices_owner_link_cannot_be_typed_through_the_api(demo, client):
    invoice = posted_invoice(client, demo)
    customer = Customer.objects.get(entity=invoice.entity, number=1)
    body = {
        "company": demo.company.pk,
        "entity": customer.entity_id,
        "customer": customer.number,
        "date": str(DAY),
        "amount": "10.00",
        "currency": invoice.currency_id,
        "document_number": "X1",
        "origin": invoice.origin_reference,
    }
    before = Receivable.objects.count()
    response = client.post("/api/sales/receivables/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "origen_reservado"
    assert Receivable.objects.count() == before


def test_rows_without_an_owner_are_still_cancelled_directly(demo, client):
    caja = CashBankAccount.objects.get(company=demo.company, code="CAJA")
    from cashbank.services import create_cash_movement

    movement = create_cash_movement(
        company=demo.company,
        account=caja,
        kind="deposit",
        date=DAY,
        amount="10",
        method="01",
        concept="Manual",
    )
    response = client.post(f"/api/cashbank/movements/{movement.pk}/cancel/")
    assert response.status_code == 200, response.json()


def test_generate_invoice_with_the_same_key_replays_the_first_answer(demo, client):
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    body = {"entity": entity.pk, "customer": 1, "date": str(DAY), "payment": "credit",
            "lines": [{"product": "A", "quantity": "1"}]}  # fmt: skip
    order = client.post("/api/sales/orders/", body, format="json").json()
    url = f"/api/sales/orders/{order['id']}/generate-invoice/"
    first = client.post(url, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert first.status_code == 201, first.json()
    again = client.post(url, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert again.status_code in (200, 201), again.json()
    assert again.json() == first.json()
    assert SalesDocument.objects.filter(kind="invoice").count() == 1

    other_key = client.post(url, HTTP_IDEMPOTENCY_KEY="gen-2")
    assert other_key.status_code == 409 and other_key.json()["code"] == "documento_ya_facturado"

    other = client.post("/api/sales/orders/", body, format="json").json()
    reused = client.post(f"/api/sales/orders/{other['id']}/generate-invoice/", HTTP_IDEMPOTENCY_KEY="gen-1")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotencia_conflicto"
    assert SalesDocument.objects.filter(kind="invoice").count() == 1


def test_no_ledger_takes_a_documents_owner_link_from_the_api(demo, client):
    invoice = posted_invoice(client, demo)
    caja = CashBankAccount.objects.get(company=demo.company, code="CAJA")
    before = CashMovement.objects.count(), StockMovement.objects.count(), JournalEntry.objects.count()
    movement = {"company": demo.company.pk, "account": caja.pk, "kind": "deposit", "date": str(DAY),
                "amount": "5.00", "method": "01", "concept": "x", "origin": invoice.origin_reference}  # fmt: skip
    stock = {"company": demo.company.pk, "warehouse": invoice.warehouse_id, "kind": "entry", "date": str(DAY),
             "concept": "x", "origin": invoice.origin_reference,
             "lines": [{"product": Product.objects.get(company=demo.company, code="A").pk, "quantity": "1"}]}  # fmt: skip
    for url, body in (("/api/cashbank/movements/", movement), ("/api/inventory/stock-movements/", stock)):
        response = client.post(url, body, format="json")
        assert response.status_code == 400 and response.json()["code"] == "origen_reservado", response.json()
    assert (
        CashMovement.objects.count(),
        StockMovement.objects.count(),
        JournalEntry.objects.count(),
    ) == before
