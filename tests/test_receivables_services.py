"""Receivables: due date from credit days, records, open balance, debt, statement, rule 3."""

from datetime import date
from decimal import Decimal

import pytest

from erp.errors import DomainError
from sales.models import Customer
from sales.receivables.models import Receivable, ReceivableRecord
from sales.receivables.selectors import customer_debt, customer_statement
from sales.receivables.services import (
    apply_receivable_record,
    cancel_receivable,
    cancel_receivable_record,
    open_receivable,
)
from tests.factories import CustomerFactory, currency, sales_entity

pytestmark = pytest.mark.django_db
D = Decimal
CREDIT_NOTE = "VDEV|1|E1||"  # balance records are written by credit notes (sales.returns)


@pytest.fixture
def customer(company):
    return CustomerFactory(entity=sales_entity(company), credit_days=30)


def invoice(company, customer, amount="3654.00", number="A-1", day=date(2026, 2, 10), code="MXN", rate=1):
    return open_receivable(
        company=company, customer=customer, date=day, amount=amount, currency=currency(code),
        exchange_rate=rate, document_number=number, origin=f"Ventas|{number}|MTY||",
    )  # fmt: skip


def test_receivable_is_due_after_the_customers_credit_days(company, customer):
    receivable = invoice(company, customer)
    assert receivable.due_date == date(2026, 3, 12)
    assert receivable.balance == receivable.amount == D("3654.00")


def test_records_lower_the_open_balance_and_the_customers_debt(company, customer):
    receivable = invoice(company, customer)
    invoice(company, customer, amount="100.00", number="A-2", code="USD", rate="17.5")
    apply_receivable_record(
        receivable=receivable, kind="adjustment", date=date(2026, 2, 12), amount="1160.00", origin=CREDIT_NOTE
    )
    apply_receivable_record(receivable=receivable, kind="payment", date=date(2026, 2, 20), amount="1000.00")
    apply_receivable_record(receivable=receivable, kind="advance", date=date(2026, 2, 21), amount="494.00")
    receivable.refresh_from_db()
    assert receivable.balance == D("1000.00")  # 3654 − 1160 − 1000 − 494
    assert customer_debt(customer=customer) == {"MXN": D("1000.00"), "USD": D("100.00")}


def test_a_record_cannot_exceed_the_balance(company, customer):
    receivable = invoice(company, customer, amount="100.00")
    with pytest.raises(DomainError) as error:
        apply_receivable_record(
            receivable=receivable, kind="payment", date=date(2026, 2, 11), amount="100.01"
        )
    assert error.value.code == "importe_excede_saldo"
    assert ReceivableRecord.objects.count() == 0
    receivable.refresh_from_db()
    assert receivable.balance == D("100.00")


def test_counter_customer_gets_no_credit(company):
    counter = Customer.objects.get(entity=sales_entity(company), number=0)
    with pytest.raises(DomainError) as error:
        invoice(company, counter)
    assert error.value.code == "credito_a_mostrador"
    assert Receivable.objects.count() == 0


def test_receivable_with_applied_records_cannot_be_cancelled(company, customer, accountant):
    receivable = invoice(company, customer)
    record = apply_receivable_record(
        receivable=receivable, kind="payment", date=date(2026, 2, 20), amount="10"
    )

    with pytest.raises(DomainError) as error:
        cancel_receivable(receivable=receivable, user=accountant)
    assert error.value.code == "cxc_con_registros"
    assert error.value.message == (
        "No se puede cancelar la cuenta por cobrar porque tiene registros de pago, saldo o aplicación de "
        "anticipos. Cancele primero estos registros."
    )
    receivable.refresh_from_db()
    assert receivable.status == Receivable.Status.ACTIVE

    cancel_receivable_record(record=record, user=accountant)
    receivable.refresh_from_db()
    assert receivable.balance == D("3654.00")
    cancel_receivable(receivable=receivable, user=accountant)
    receivable.refresh_from_db()
    assert receivable.status == Receivable.Status.CANCELLED and receivable.cancelled_by == accountant
    assert customer_debt(customer=customer) == {}
    with pytest.raises(DomainError):
        apply_receivable_record(receivable=receivable, kind="payment", date=date(2026, 2, 21), amount="1")


def test_statement_runs_the_balance(company, customer):
    first = invoice(company, customer, amount="1000.00", number="A-1", day=date(2026, 1, 20))
    apply_receivable_record(receivable=first, kind="payment", date=date(2026, 1, 30), amount="400")
    second = invoice(company, customer, amount="500.00", number="A-2", day=date(2026, 2, 5))
    apply_receivable_record(
        receivable=second, kind="adjustment", date=date(2026, 2, 8), amount="50", origin=CREDIT_NOTE
    )

    lines = customer_statement(customer=customer, date_from=date(2026, 2, 1))
    assert [(line.description, line.charge, line.credit, line.balance) for line in lines] == [
        ("Saldo anterior", D(0), D(0), D("600.00")),
        ("factura A-2", D("500.00"), D(0), D("1100.00")),
        ("Saldo (devolución o rebaja) a factura A-2", D(0), D("50.00"), D("1050.00")),
    ]


def test_a_foreign_receivable_needs_its_exchange_rate(company, customer):
    with pytest.raises(DomainError) as error:
        invoice(company, customer, code="USD")
    assert error.value.message == "Indique el tipo de cambio de USD."
    assert Receivable.objects.count() == 0


def test_a_balance_record_without_a_credit_note_is_refused(company, customer):
    receivable = invoice(company, customer, amount="100.00")
    with pytest.raises(DomainError) as error:
        apply_receivable_record(receivable=receivable, kind="adjustment", date=date(2026, 2, 11), amount="10")
    assert error.value.code == "saldo_sin_nota_de_credito"
    receivable.refresh_from_db()
    assert receivable.balance == D("100.00") and not receivable.records.exists()
