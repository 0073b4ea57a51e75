"""Factories and builders for the ledgers: a small chart of accounts, linked warehouses and banks."""

from dataclasses import dataclass
from datetime import date

from accounting.models import Account, AccountingVariable
from accounting.variables import Variable
from cashbank.models import CashBankAccount
from erp.models import Company
from inventory.models import Warehouse
from inventory.services import create_stock_movement
from tests.factories import AccountFactory, CashBankAccountFactory, ProductFactory, WarehouseFactory, currency


@dataclass
class Chart:
    """A demo chart: 100 Activo > 101 Caja y bancos > 101-01 Caja, 101-02 Bancos; 105 Clientes;
    115 Inventarios; 200 Pasivo > 208 IVA trasladado; 300 Capital > 301 Capital social;
    400 Ingresos > 401 Ventas; 500 Costos > 501 Costo de ventas."""

    activo: Account
    caja_bancos: Account
    caja: Account
    bancos: Account
    clientes: Account
    inventario: Account
    pasivo: Account
    iva: Account
    capital: Account
    capital_social: Account
    ingresos: Account
    ventas: Account
    costos: Account
    costo_ventas: Account


def _acc(company, code, name, nature, sat, parent=None, postable=True) -> Account:
    return AccountFactory(
        company=company,
        code=code,
        name=name,
        nature=nature,
        sat_grouping_code=sat,
        parent=parent,
        postable=postable,
    )


def demo_chart(company: Company) -> Chart:
    D, A = Account.Nature.DEBIT, Account.Nature.CREDIT
    activo = _acc(company, "100", "Activo", D, "100", postable=False)
    caja_bancos = _acc(company, "101", "Caja y bancos", D, "101", activo, postable=False)
    pasivo = _acc(company, "200", "Pasivo", A, "200", postable=False)
    capital = _acc(company, "300", "Capital", A, "300", postable=False)
    ingresos = _acc(company, "400", "Ingresos", A, "400", postable=False)
    costos = _acc(company, "500", "Costos", D, "500", postable=False)
    chart = Chart(
        activo=activo,
        caja_bancos=caja_bancos,
        caja=_acc(company, "101-01", "Caja", D, "101.01", caja_bancos),
        bancos=_acc(company, "101-02", "Bancos nacionales", D, "102.01", caja_bancos),
        clientes=_acc(company, "105", "Clientes", D, "105.01", activo),
        inventario=_acc(company, "115", "Inventarios", D, "115.01", activo),
        pasivo=pasivo,
        iva=_acc(company, "208", "IVA trasladado cobrado", A, "208.01", pasivo),
        capital=capital,
        capital_social=_acc(company, "301", "Capital social", A, "301.01", capital),
        ingresos=ingresos,
        ventas=_acc(company, "401", "Ventas y/o servicios gravados a la tasa general", A, "401.01", ingresos),
        costos=costos,
        costo_ventas=_acc(company, "501", "Costo de venta", D, "501.01", costos),
    )
    links = {
        Variable.SALES_INCOME: chart.ventas,
        Variable.IVA_TRANSFERRED: chart.iva,
        Variable.CUSTOMERS: chart.clientes,
        Variable.COST_OF_SALES: chart.costo_ventas,
        Variable.INVENTORY: chart.inventario,
    }
    for variable, account in links.items():
        AccountingVariable.objects.update_or_create(
            company=company, name=variable, defaults={"account": account}
        )
    return chart


def linked_warehouse(company, chart: Chart, **fields):
    return WarehouseFactory(
        company=company, linked_to_accounting=True, inventory_account=chart.inventario, **fields
    )


def bank(company, chart: Chart | None = None, code="BAN1", currency_code="MXN", **fields) -> CashBankAccount:
    linked = chart is not None
    return CashBankAccountFactory(
        company=company,
        code=code,
        name=f"Banco {code}",
        kind=CashBankAccount.Kind.BANK,
        bank_name="BBVA",
        sat_bank_code="012",
        account_number="0123456789",
        currency=currency(currency_code),
        linked_to_accounting=linked,
        ledger_account=chart.bancos if linked else None,
        **fields,
    )


def cash_box(company, chart: Chart | None = None, code="CAJ1", currency_code="MXN") -> CashBankAccount:
    linked = chart is not None
    return CashBankAccountFactory(
        company=company,
        code=code,
        currency=currency(currency_code),
        linked_to_accounting=linked,
        ledger_account=chart.caja if linked else None,
    )


def product(company, **fields):
    return ProductFactory(company=company, **fields)


def opening_stock(company, lines: list[tuple], warehouse_code: str = "ALM"):
    """Put goods in a warehouse on 2026-11-01: ``lines`` of (product, quantity, unit cost)."""
    return create_stock_movement(
        company=company,
        warehouse=Warehouse.objects.get(company=company, code=warehouse_code),
        kind="entry",
        date=date(2026, 11, 1),
        concept="Inventario inicial",
        lines=[{"product": p, "quantity": qty, "unit_cost": cost} for p, qty, cost in lines],
    )
