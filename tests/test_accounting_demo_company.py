"""The demo company's books after a few postings: the trial balance balances and matches figures
worked out by hand; the three SAT exports validate. Runs where the demo loader exists (main)."""

from datetime import date
from decimal import Decimal

import pytest

from accounting.models import Account
from accounting.sat_export import chart_of_accounts_xml, journal_entries_xml, schema_errors, trial_balance_xml
from accounting.selectors import trial_balance
from accounting.services import post_journal_entry
from cashbank.models import CashBankAccount
from cashbank.services import create_cash_movement
from inventory.models import Product, Warehouse
from inventory.services import create_stock_movement

demo = pytest.importorskip("demo.services", reason="El cargador de la empresa demo está en main.")
pytestmark = pytest.mark.django_db
D = Decimal
DAY = date(2026, 2, 10)


def test_demo_company_trial_balance_after_a_few_postings():
    company = demo.load_demo().company
    account = {a.code: a for a in Account.objects.filter(company=company)}
    warehouse = Warehouse.objects.get(company=company, code="ALM")  # linked to 115-01
    product = Product.objects.get(company=company, code="A")

    # Opening stock against capital: inventory 500 / capital 500
    create_stock_movement(
        company=company, warehouse=warehouse, kind="entry", date=DAY, concept="Inventario inicial",
        lines=[{"product": product, "quantity": 100, "unit_cost": "5.00"}], counterpart_account=account["301-01"],
    )  # fmt: skip
    # A cash sale into the linked cash box: caja 1000 / ventas 1000
    create_cash_movement(
        company=company, account=CashBankAccount.objects.get(company=company, code="CAJA"), kind="deposit",
        date=DAY, amount="1000.00", method="01", concept="Venta de contado", counterpart_account=account["401-01"],
    )  # fmt: skip
    # Its cost at the average: cost of sales 200 / inventory 200
    create_stock_movement(
        company=company, warehouse=warehouse, kind="exit", date=DAY, concept="Salida por venta",
        lines=[{"product": product, "quantity": 40}],
    )  # fmt: skip
    # A credit sale: customers 2320 / sales 2000, IVA 320
    post_journal_entry(
        company=company, kind="D", date=DAY, concept="Venta a crédito A-1",
        lines=[{"account": account["105-01"], "debit": 2320}, {"account": account["401-01"], "credit": 2000},
               {"account": account["209-01"], "credit": 320}],
    )  # fmt: skip

    balance = trial_balance(company=company, date_from=date(2026, 2, 1), date_to=date(2026, 2, 28))
    closing = {r.code: r.closing for r in balance.rows if r.closing or r.debit or r.credit}
    assert closing == {
        "100": D("3620.00"), "101": D("1000.00"), "101-01": D("1000.00"), "105": D("2320.00"),
        "105-01": D("2320.00"), "115": D("300.00"), "115-01": D("300.00"), "200": D("320.00"),
        "209": D("320.00"), "209-01": D("320.00"), "300": D("500.00"), "301": D("500.00"),
        "301-01": D("500.00"), "400": D("3000.00"), "401": D("3000.00"), "401-01": D("3000.00"),
        "500": D("200.00"), "501": D("200.00"), "501-01": D("200.00"),
    }  # fmt: skip
    assert balance.total_debit == balance.total_credit == D("4020.00")
    assert balance.closing_debit_balances == balance.closing_credit_balances == D("3820.00")
    assert balance.balances

    assert schema_errors(chart_of_accounts_xml(company=company, year=2026, month=2), "catalogo") == []
    assert schema_errors(trial_balance_xml(company=company, year=2026, month=2), "balanza") == []
    xml = journal_entries_xml(company=company, year=2026, month=2, order_number="ABC6912345/12")
    assert schema_errors(xml, "polizas") == []
