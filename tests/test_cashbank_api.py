"""Cash and bank movements through the API and the admin."""

from decimal import Decimal

import pytest

from cashbank.models import CashMovement
from tests.factories import currency
from tests.factories_ledgers import bank, demo_chart

pytestmark = pytest.mark.django_db
URL = "/api/cashbank/movements/"


def payload(company, account, **overrides):
    return {"company": company.pk, "account": account.pk, "kind": "deposit", "date": "2026-02-10",
            "amount": "100.00", "method": "01", "concept": "Cobro de contado", **overrides}  # fmt: skip


def test_cashier_deposits_and_reads_balances(company, cashier, api_as):
    account = bank(company)
    client = api_as(cashier)
    created = client.post(
        URL,
        payload(company, account, document_currency=currency("USD").pk, exchange_rate="17.50"),
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert (created.json()["amount"], created.json()["document_amount"]) == ("1750.00", "100.00")
    balances = client.get(f"{URL}balances/", {"company": company.pk, "date": "2026-02-28"}).json()
    assert balances["accounts"] == [
        {"account": account.pk, "code": account.code, "currency": "MXN", "balance": "1750.00"}
    ]
    assert client.get(URL, {"account": account.pk, "kind": "deposit"}).json()["count"] == 1


def test_currency_mismatch_answers_400_and_writes_nothing(company, cashier, api_as):
    account = bank(company, code="USD1", currency_code="USD")
    response = api_as(cashier).post(
        URL, payload(company, account, document_currency=currency("MXN").pk), format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "moneda_incompatible"
    assert CashMovement.objects.count() == 0


def test_linked_deposit_posts_its_entry_and_the_accountant_cancels_it(company, accountant, cashier, api_as):
    chart = demo_chart(company)
    account = bank(company, chart)
    body = (
        api_as(cashier)
        .post(URL, payload(company, account, counterpart_account=chart.clientes.pk), format="json")
        .json()
    )
    assert body["journal_entry"] is not None
    assert api_as(cashier).post(f"{URL}{body['id']}/cancel/").status_code == 403
    cancelled = api_as(accountant).post(f"{URL}{body['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    balances = api_as(accountant).get(f"{URL}balances/", {"company": company.pk, "date": "2026-02-28"}).json()
    assert Decimal(balances["accounts"][0]["balance"]) == 0


def test_admin_cancel_action(company, accountant, cashier, api_as, client):
    account = bank(company)
    movement_id = api_as(cashier).post(URL, payload(company, account), format="json").json()["id"]
    client.force_login(accountant)
    client.post(
        "/admin/cashbank/cashmovement/", {"action": "cancel_movements", "_selected_action": [movement_id]}
    )
    assert CashMovement.objects.get().status == "cancelled"
    assert client.get(f"/admin/cashbank/cashmovement/{movement_id}/change/").status_code == 200
