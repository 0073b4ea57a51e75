"""Receivables through the API and the admin."""

import pytest

from sales.receivables.models import Receivable, ReceivableRecord
from tests.factories import CustomerFactory, currency, sales_entity

pytestmark = pytest.mark.django_db
URL = "/api/sales/receivables/"


@pytest.fixture
def customer(company):
    return CustomerFactory(entity=sales_entity(company), credit_days=15)


def open_one(client, company, customer, amount="1160.00"):
    return client.post(URL, {"company": company.pk, "entity": customer.entity_id, "customer": customer.number,
                             "date": "2026-02-10", "amount": amount, "currency": currency("MXN").pk,
                             "document_number": "A-10"}, format="json")  # fmt: skip


def test_open_pay_and_refuse_cancel_with_records(company, customer, accountant, cashier, api_as):
    created = open_one(api_as(accountant), company, customer)
    assert created.status_code == 201, created.json()
    receivable_id = created.json()["id"]
    assert created.json()["due_date"] == "2026-02-25"
    # The customer is its number within the entity, both ways (issue 19), with its id and name.
    assert (created.json()["entity"], created.json()["customer"], created.json()["customer_id"]) == (
        customer.entity_id, customer.number, customer.pk,
    )  # fmt: skip

    paid = api_as(cashier).post(
        f"{URL}{receivable_id}/records/",
        {"kind": "payment", "date": "2026-02-20", "amount": "160.00"},
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    assert api_as(cashier).get(f"{URL}{receivable_id}/").json()["balance"] == "1000.00"

    refused = api_as(accountant).post(f"{URL}{receivable_id}/cancel/")
    assert refused.status_code == 409
    assert refused.json()["message"].startswith(
        "No se puede cancelar la cuenta por cobrar porque tiene registros"
    )
    assert Receivable.objects.get().status == "active"

    by_number = {"company": company.pk, "entity": customer.entity_id, "customer": customer.number}
    debt = api_as(cashier).get(f"{URL}debt/", by_number).json()
    assert (debt["customer"], debt["customer_id"], debt["debt"]) == (
        customer.number,
        customer.pk,
        {"MXN": "1000.00"},
    )
    by_id = api_as(cashier).get(f"{URL}debt/", {"company": company.pk, "customer_id": customer.pk}).json()
    assert by_id == debt
    statement = api_as(cashier).get(f"{URL}statement/", by_number).json()
    assert [line["balance"] for line in statement["lines"]] == ["1160.00", "1000.00"]
    listed = api_as(cashier).get(URL, {"entity": customer.entity_id, "customer": customer.number}).json()
    assert [r["id"] for r in listed["results"]] == [receivable_id]
    missing = api_as(cashier).get(f"{URL}debt/", {"company": company.pk, "customer": customer.number})
    assert missing.status_code == 400 and missing.json()["details"]["customer"]

    record_id = paid.json()["id"]
    assert api_as(cashier).post(f"/api/sales/receivable-records/{record_id}/cancel/").status_code == 403
    assert api_as(accountant).post(f"/api/sales/receivable-records/{record_id}/cancel/").status_code == 200
    assert api_as(accountant).post(f"{URL}{receivable_id}/cancel/").json()["status"] == "cancelled"


def test_cashier_cannot_open_or_cancel(company, customer, cashier, api_as):
    assert open_one(api_as(cashier), company, customer).status_code == 403
    assert Receivable.objects.count() == 0


def test_record_beyond_balance_answers_400(company, customer, accountant, api_as):
    receivable_id = open_one(api_as(accountant), company, customer, amount="10.00").json()["id"]
    response = api_as(accountant).post(
        f"{URL}{receivable_id}/records/",
        {"kind": "advance", "date": "2026-02-11", "amount": "11"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "importe_excede_saldo"
    assert ReceivableRecord.objects.count() == 0


def test_admin_cancel_action_shows_rule_3(company, customer, accountant, api_as, client):
    receivable_id = open_one(api_as(accountant), company, customer).json()["id"]
    api_as(accountant).post(
        f"{URL}{receivable_id}/records/",
        {"kind": "payment", "date": "2026-02-20", "amount": "1"},
        format="json",
    )
    client.force_login(accountant)
    response = client.post(
        "/admin/sales/receivable/",
        {"action": "cancel_receivables", "_selected_action": [receivable_id]},
        follow=True,
    )
    assert any("Cancele primero estos registros" in str(m) for m in response.context["messages"])
    assert client.get(f"/admin/sales/receivable/{receivable_id}/change/").status_code == 200
    assert Receivable.objects.get().status == "active"
