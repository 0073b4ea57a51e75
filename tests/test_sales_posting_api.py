"""Posting invoices through the API on the demo company: the seed's paths A–D, its currency and
accounting-trace rules and its common errors. Every refusal leaves nothing behind."""

from datetime import date
from decimal import Decimal

import pytest

from accounting.models import AccountingVariable, JournalEntry
from cashbank.models import CashBankAccount, CashMovement
from demo.services import load_demo
from erp.models import Currency
from inventory.models import Product, StockLevel, StockMovement
from inventory.services import audit_stock_movement, revert_stock_movement
from sales.models import SalesDocument, SalesEntity
from sales.receivables.models import Receivable
from tests.factories_ledgers import opening_stock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verified_books")]
DAY = date(2026, 11, 20)


@pytest.fixture
def demo():
    return load_demo()


@pytest.fixture
def client(demo, api_as):
    from django.contrib.auth import get_user_model

    return api_as(get_user_model().objects.get(username="cajero"))


def stock(company, warehouse_code, **quantities):
    """Put goods in a warehouse at unit cost 7.00 (A) and 6.00 (B)."""
    costs = {"A": "7.00", "B": "6.00", "CERV": "12.00"}
    opening_stock(
        company,
        [(Product.objects.get(company=company, code=c), qty, costs[c]) for c, qty in quantities.items()],
        warehouse_code,
    )


def entity(company, code):
    return SalesEntity.objects.get(company=company, code=code)


def account(company, code):
    return CashBankAccount.objects.get(company=company, code=code)


def create(client, entity_, customer, payment, lines=None, **extra):
    lines = lines or [{"product": "A", "quantity": "100"}, {"product": "B", "quantity": "200"}]
    body = {
        "entity": entity_.pk,
        "customer": customer,
        "date": str(DAY),
        "payment": payment,
        "lines": lines,
        **extra,
    }
    response = client.post("/api/sales/invoices/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def post(client, invoice, collections=None):
    return client.post(
        f"/api/sales/invoices/{invoice['id']}/post/", {"collections": collections or []}, format="json"
    )


def entry_lines(origin, kind):
    entry = JournalEntry.objects.get(origin=origin, kind=kind, status="posted")
    return {(line.account.code, line.debit, line.credit) for line in entry.lines.select_related("account")}


def nothing_written(company, invoice_id):
    document = SalesDocument.objects.get(pk=invoice_id)
    origin = document.origin_reference
    return (
        document.status == "draft"
        and document.number is None
        and not CashMovement.objects.filter(origin=origin).exists()
        and not JournalEntry.objects.filter(origin=origin).exists()
        and not Receivable.objects.filter(origin=origin).exists()
        and not StockMovement.objects.filter(origin=origin).exists()
    )


def test_b_credit_invoice_posts_receivable_diario_stock_and_cost(demo, client):
    company = demo.company
    stock(company, "ALM", A=150, B=300)
    invoice = create(client, entity(company, "PACHUCA"), 1, "credit")
    response = post(client, invoice)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["number"], body["status"], body["total"]) == (1, "generated", "3654.00")

    origin = f"VFAC|{invoice['id']}|PACHUCA||"
    receivable = Receivable.objects.get(origin=origin)
    assert (receivable.amount, receivable.balance, receivable.due_date) == (
        Decimal("3654.00"),
        Decimal("3654.00"),
        date(2026, 12, 20),  # 30 credit days
    )
    assert entry_lines(origin, "D") == {
        ("105-01", Decimal("3654.00"), 0),
        ("401-01", 0, Decimal("3150.00")),
        ("209-01", 0, Decimal("504.00")),
    }
    exit_ = StockMovement.objects.get(origin=origin)
    assert exit_.kind == "exit" and exit_.journal_entry is not None
    cost = {
        (ln.account.code, ln.debit, ln.credit) for ln in exit_.journal_entry.lines.select_related("account")
    }
    assert cost == {("501-01", Decimal("1900.00"), 0), ("115-01", 0, Decimal("1900.00"))}  # 100×7 + 200×6
    levels = {lv.product.code: lv.quantity for lv in StockLevel.objects.filter(warehouse__code="ALM")}
    assert levels == {"A": Decimal("50"), "B": Decimal("100")}
    assert not CashMovement.objects.filter(origin=origin).exists()


def test_a_cash_invoice_collected_in_two_accounts_with_one_income_entry(demo, client):
    company = demo.company
    stock(company, "ALM", A=100, B=200)
    invoice = create(client, entity(company, "PACHUCA"), 1, "cash")
    collections = [
        {"account": account(company, "CAJA").pk, "amount": "654.00", "method": "01"},
        {
            "account": account(company, "BBVA-MXN").pk,
            "amount": "3000.00",
            "method": "03",
            "counterparty_bank": "002",
            "counterparty_account": "002180700000000011",
        },
    ]
    response = post(client, invoice, collections)
    assert response.status_code == 200, response.json()

    origin = f"VFAC|{invoice['id']}|PACHUCA||"
    movements = CashMovement.objects.filter(origin=origin).order_by("amount")
    assert [(m.account.code, m.amount, m.kind) for m in movements] == [
        ("CAJA", Decimal("654.00"), "deposit"),
        ("BBVA-MXN", Decimal("3000.00"), "deposit"),
    ]
    entry = JournalEntry.objects.get(origin=origin, kind="I")
    assert {m.journal_entry_id for m in movements} == {entry.pk}
    assert entry_lines(origin, "I") == {
        ("101-01", Decimal("654.00"), 0),
        ("102-01", Decimal("3000.00"), 0),
        ("401-01", 0, Decimal("3150.00")),
        ("209-01", 0, Decimal("504.00")),
    }
    transfer = entry.lines.get(account__code="102-01").payments.get()
    assert transfer.amount == Decimal("3000.00")
    assert not Receivable.objects.filter(origin=origin).exists()


def test_c_no_payment_method_uses_the_cc_vennp_counterpart(demo, client):
    company = demo.company
    stock(company, "ALM", A=100, B=200)
    invoice = create(client, entity(company, "PACHUCA"), 1, "none")
    assert post(client, invoice).status_code == 200
    origin = f"VFAC|{invoice['id']}|PACHUCA||"
    assert ("107-01", Decimal("3654.00"), 0) in entry_lines(origin, "D")
    assert not CashMovement.objects.filter(origin=origin).exists()
    assert not Receivable.objects.filter(origin=origin).exists()


def test_invoice_with_discount_and_retentions_balances(demo, client):
    company = demo.company
    lines = [{"product": "FLETE", "quantity": "1", "discount_rate": "10"}]
    invoice = create(client, entity(company, "PACHUCA"), 1, "credit", lines=lines)
    assert post(client, invoice).status_code == 200
    origin = f"VFAC|{invoice['id']}|PACHUCA||"
    # Freight to a persona moral: 1000 − 100 discount = 900; IVA 144; ret IVA 36.00 (4%); total 1008.00
    assert entry_lines(origin, "D") == {
        ("105-01", Decimal("1008.00"), 0),
        ("402-02", Decimal("100.00"), 0),
        ("113-01", Decimal("36.00"), 0),
        ("401-01", 0, Decimal("1000.00")),
        ("209-01", 0, Decimal("144.00")),
    }
    assert not StockMovement.objects.filter(origin=origin).exists()  # a service moves no stock


class TestWarehouseRules:
    def test_d1_entity_without_stock_movements_makes_none(self, demo, client):
        company = demo.company
        pachuca = entity(company, "PACHUCA")
        pachuca.no_stock_movements = True
        pachuca.save()
        invoice = create(client, pachuca, 1, "credit")
        body = post(client, invoice).json()
        assert body["status"] == "emitted" and body["stock_movement"] is None
        assert not StockMovement.objects.filter(origin=f"VFAC|{invoice['id']}|PACHUCA||").exists()

    def test_d2_unlinked_warehouse_moves_stock_without_cost_entry(self, demo, client):
        company = demo.company
        stock(company, "MOS", A=100, B=200)
        invoice = create(client, entity(company, "MOSTRADOR"), 0, "cash")
        response = post(client, invoice, [{"account": account(company, "CHICA").pk, "amount": "3654.00"}])
        assert response.status_code == 200, response.json()
        exit_ = StockMovement.objects.get(origin=f"VFAC|{invoice['id']}|MOSTRADOR||")
        assert exit_.journal_entry is None
        assert not JournalEntry.objects.filter(origin=f"VFAC|{invoice['id']}|MOSTRADOR||").exists()  # fija

    def test_d3_linked_warehouse_moves_stock_with_cost_entry(self, demo, client):
        stock(demo.company, "ALM", A=100, B=200)
        invoice = create(client, entity(demo.company, "PACHUCA"), 1, "credit")
        post(client, invoice)
        assert StockMovement.objects.get(origin=f"VFAC|{invoice['id']}|PACHUCA||").journal_entry is not None

    def test_d4_invoice_from_a_remission_moves_nothing_and_is_emitted(self, demo, client):
        stock(demo.company, "ALM", A=100, B=200)
        pachuca = entity(demo.company, "PACHUCA")
        remission = client.post(
            "/api/sales/remissions/",
            {"entity": pachuca.pk, "customer": 1, "date": str(DAY), "payment": "credit",
             "lines": [{"product": "A", "quantity": "100"}, {"product": "B", "quantity": "200"}]},
            format="json",
        ).json()  # fmt: skip
        assert StockMovement.objects.filter(origin=f"VREM|{remission['id']}|PACHUCA||").count() == 1
        invoice = client.post(f"/api/sales/remissions/{remission['id']}/generate-invoice/").json()
        body = post(client, invoice).json()
        assert (body["status"], body["stock_movement"]) == ("emitted", None)
        assert not StockMovement.objects.filter(origin=f"VFAC|{invoice['id']}|PACHUCA||").exists()
        assert Receivable.objects.filter(origin=f"VFAC|{invoice['id']}|PACHUCA||").exists()


def test_status_follows_the_warehouse_audit_and_revert(demo, client):
    from django.contrib.auth import get_user_model

    stock(demo.company, "ALM", A=100, B=200)
    invoice = create(client, entity(demo.company, "PACHUCA"), 1, "credit")
    post(client, invoice)
    manager = get_user_model().objects.get(username="contador")
    exit_ = StockMovement.objects.get(origin=f"VFAC|{invoice['id']}|PACHUCA||")

    audit_stock_movement(movement=exit_, user=manager)
    assert client.get(f"/api/sales/invoices/{invoice['id']}/").json()["status"] == "emitted"
    listed = client.get("/api/sales/invoices/?tab=emitidas").json()["results"]
    assert [row["id"] for row in listed] == [invoice["id"]]

    revert_stock_movement(movement=exit_, user=manager)
    detail = client.get(f"/api/sales/invoices/{invoice['id']}/").json()
    assert (detail["status"], detail["status_display"]) == ("reverted", "Revertida")
    assert [row["id"] for row in client.get("/api/sales/invoices/?tab=revertidas").json()["results"]] == [
        invoice["id"]
    ]


class TestCurrencyRules:
    def test_1_national_invoice_in_national_accounts(self, demo, client):
        invoice = create(
            client, entity(demo.company, "PACHUCA"), 1, "cash", lines=[{"product": "ASES", "quantity": 1}]
        )
        assert invoice["total"] == "1160.00"  # 1000 + 160 IVA: nobody retains from a persona moral's fees
        assert (
            post(
                client, invoice, [{"account": account(demo.company, "CAJA").pk, "amount": "1160.00"}]
            ).status_code
            == 200
        )

    def test_2_foreign_invoice_into_national_account_at_the_exchange_rate(self, demo, client):
        invoice = create(
            client, entity(demo.company, "PACHUCA"), 1, "cash",
            lines=[{"product": "COLEG", "quantity": 1, "unit_price": "100"}], currency="USD", exchange_rate="18.50",
        )  # fmt: skip
        response = post(client, invoice, [{"account": account(demo.company, "CAJA").pk, "amount": "100.00"}])
        assert response.status_code == 200, response.json()
        movement = CashMovement.objects.get(origin=f"VFAC|{invoice['id']}|PACHUCA||")
        assert movement.amount == Decimal("1850.00")  # pesos in the national cash box
        assert ("401-01", 0, Decimal("1850.00")) in entry_lines(movement.origin, "I")

    def test_3_foreign_invoice_into_same_currency_account(self, demo, client):
        invoice = create(
            client, entity(demo.company, "PACHUCA"), 1, "cash",
            lines=[{"product": "COLEG", "quantity": 1, "unit_price": "100"}], currency="USD", exchange_rate="18.50",
        )  # fmt: skip
        response = post(client, invoice, [{"account": account(demo.company, "BBVA-USD").pk, "amount": "100.00",
                                           "method": "03", "counterparty_bank": "002",
                                           "counterparty_account": "002180700000000011"}])  # fmt: skip
        assert response.status_code == 200, response.json()
        movement = CashMovement.objects.get(origin=f"VFAC|{invoice['id']}|PACHUCA||")
        assert movement.amount == Decimal("100.00")
        line = JournalEntry.objects.get(origin=movement.origin).lines.get(account__code="102-02")
        assert (line.debit, line.foreign_amount, line.exchange_rate) == (
            Decimal("1850.00"),
            Decimal("100.00"),
            Decimal("18.5"),
        )

    def test_4_national_invoice_into_foreign_account_fails(self, demo, client):
        invoice = create(
            client, entity(demo.company, "PACHUCA"), 1, "cash", lines=[{"product": "COLEG", "quantity": 1}]
        )
        response = post(
            client, invoice, [{"account": account(demo.company, "BBVA-USD").pk, "amount": "3500.00"}]
        )
        assert response.status_code == 400 and response.json()["code"] == "moneda_incompatible"
        assert nothing_written(demo.company, invoice["id"])

    def test_4_two_different_foreign_currencies_fail(self, demo, client):
        company = demo.company
        eur = CashBankAccount.objects.create(
            company=company, code="EUR", name="Banco euros", kind="bank", currency=Currency.objects.get(code="EUR"),
            linked_to_accounting=True, ledger_account=account(company, "BBVA-USD").ledger_account, bank_name="BBVA",
        )  # fmt: skip
        entity(company, "PACHUCA").cash_accounts.add(eur)
        invoice = create(
            client, entity(company, "PACHUCA"), 1, "cash",
            lines=[{"product": "COLEG", "quantity": 1, "unit_price": "100"}], currency="USD", exchange_rate="18.50",
        )  # fmt: skip
        response = post(client, invoice, [{"account": eur.pk, "amount": "100.00"}])
        assert response.status_code == 400 and response.json()["code"] == "moneda_incompatible"
        assert nothing_written(company, invoice["id"])

    def test_5_accounting_traces_must_match_with_the_seeds_message(self, demo, client):
        company = demo.company
        entity(company, "PACHUCA").cash_accounts.add(account(company, "CHICA"))  # not linked
        invoice = create(
            client, entity(company, "PACHUCA"), 1, "cash", lines=[{"product": "COLEG", "quantity": 1}]
        )
        response = post(client, invoice, [{"account": account(company, "CHICA").pk, "amount": "3500.00"}])
        assert response.status_code == 400
        assert response.json()["message"] == (
            "No se puede agregar la factura porque al pagarse de contado requiere que las cajas o bancos "
            "manejen los mismos trazos contables que la factura."
        )
        assert nothing_written(company, invoice["id"])


def test_common_error_unset_variable_names_its_description(demo, client):
    company = demo.company
    AccountingVariable.objects.filter(company=company, name="VEN_DESCUENTOS").update(account=None)
    invoice = create(
        client, entity(company, "MOSTRADOR"), 0, "none", lines=[{"product": "COLEG", "quantity": 1}]
    )
    response = post(client, invoice)  # not a contable entity and no discount: still checked
    assert response.status_code == 400
    assert (
        response.json()["message"]
        == "La cuenta Cuenta de descuentos sobre ventas no existe o no se ha enlazado"
    )
    assert nothing_written(company, invoice["id"])


def test_a_failure_late_in_posting_rolls_everything_back(demo, client):
    company = demo.company
    stock(company, "ALM", A=10)  # not enough of A, no B at all
    invoice = create(client, entity(company, "PACHUCA"), 1, "cash")
    response = post(client, invoice, [{"account": account(company, "CAJA").pk, "amount": "3654.00"}])
    assert response.status_code == 409, response.json()
    assert "existencia" in response.json()["message"].lower()
    assert nothing_written(company, invoice["id"])
    assert entity(company, "PACHUCA").next_number == 1


def test_collections_must_add_up_to_the_total(demo, client):
    invoice = create(
        client, entity(demo.company, "PACHUCA"), 1, "cash", lines=[{"product": "COLEG", "quantity": 1}]
    )
    response = post(client, invoice, [{"account": account(demo.company, "CAJA").pk, "amount": "100.00"}])
    assert response.status_code == 400 and response.json()["code"] == "cobro_incompleto"
    assert nothing_written(demo.company, invoice["id"])
