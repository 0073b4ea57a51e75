"""Cash and bank: movements, currency rules and accounting traces (seed A.1–A.5), balances."""

from datetime import date
from decimal import Decimal

import pytest

from accounting.models import JournalEntry, PaymentRecord
from accounting.sat_export import journal_entries_xml, schema_errors
from accounting.services import cancel_entries_for_origin, post_journal_entry
from cashbank.models import CashMovement
from cashbank.selectors import balance_at, balances_at
from cashbank.services import (
    TRACES_MESSAGE,
    cancel_cash_movement,
    cash_journal_line,
    check_collection_accounts,
    create_cash_movement,
    link_movements_to_entry,
)
from erp.errors import DomainError
from tests.factories import currency
from tests.factories_ledgers import bank, cash_box, demo_chart

pytestmark = pytest.mark.django_db
D = Decimal
SEED_TRACES = (
    "No se puede agregar la factura porque al pagarse de contado requiere que las cajas o bancos "
    "manejen los mismos trazos contables que la factura."
)


def deposit(company, account, amount, **kwargs):
    kwargs.setdefault("method", "01")
    kwargs.setdefault("concept", "Cobro")
    kwargs.setdefault("date", date(2026, 2, 10))
    return create_cash_movement(company=company, account=account, kind="deposit", amount=amount, **kwargs)


# -- the reusable rules ------------------------------------------------------------------------


def test_national_document_collects_into_national_accounts(company):
    check_collection_accounts(
        document_currency=currency("MXN"),
        accounts=[cash_box(company), bank(company)],
        document_is_contable=False,
    )


def test_foreign_document_collects_into_national_or_same_currency_accounts(company):
    check_collection_accounts(
        document_currency=currency("USD"),
        accounts=[bank(company, code="MXN1"), bank(company, code="USD1", currency_code="USD")],
        document_is_contable=False,
    )


def test_national_document_with_a_foreign_account_fails(company):
    with pytest.raises(DomainError) as error:
        check_collection_accounts(
            document_currency=currency("MXN"),
            accounts=[bank(company, code="MXN1"), bank(company, code="USD1", currency_code="USD")],
            document_is_contable=False,
        )
    assert error.value.code == "moneda_incompatible"
    assert error.value.message == (
        "No se puede agregar la factura porque es en moneda nacional y no se puede cobrar en cajas o "
        "bancos en moneda extranjera: USD1 (USD)."
    )


def test_two_different_foreign_currencies_fail(company):
    with pytest.raises(DomainError) as error:
        check_collection_accounts(
            document_currency=currency("USD"),
            accounts=[bank(company, code="EUR1", currency_code="EUR")],
            document_is_contable=False,
            operation="refund",
        )
    assert error.value.message == (
        "No se puede agregar la devolución o rebaja porque es en USD y no se puede retirar de cajas o "
        "bancos en otra moneda extranjera: EUR1 (EUR)."
    )


@pytest.mark.parametrize("contable", [True, False])
def test_different_accounting_traces_fail_with_the_seed_message(company, contable):
    chart = demo_chart(company)
    linked, personal = bank(company, chart, code="CONT"), bank(company, code="PERS")
    with pytest.raises(DomainError) as error:
        check_collection_accounts(
            document_currency=currency("MXN"), accounts=[linked, personal], document_is_contable=contable
        )
    assert error.value.code == "trazos_contables"
    assert error.value.message == SEED_TRACES == TRACES_MESSAGE["collect"]


def test_no_account_fails(company):
    with pytest.raises(DomainError) as error:
        check_collection_accounts(document_currency=currency("MXN"), accounts=[], document_is_contable=True)
    assert error.value.code == "sin_cajas"


# -- movements ---------------------------------------------------------------------------------


def test_foreign_document_into_a_national_account_is_converted_at_the_rate(company):
    account = bank(company)
    movement = deposit(company, account, "100.00", document_currency=currency("USD"), exchange_rate="17.2534")
    assert (movement.amount, movement.document_amount, movement.document_currency.code) == (
        D("1725.34"),
        D("100.00"),
        "USD",
    )


def test_foreign_currency_mismatch_fails_and_leaves_no_row(company):
    account = bank(company, code="USD1", currency_code="USD")
    with pytest.raises(DomainError) as error:
        deposit(company, account, "100.00", document_currency=currency("MXN"))
    assert error.value.code == "moneda_incompatible"
    assert "USD1 (USD)" in error.value.message
    assert CashMovement.objects.count() == 0


def test_foreign_document_through_national_account_needs_the_rate(company):
    with pytest.raises(DomainError) as error:
        deposit(company, bank(company), "10", document_currency=currency("USD"))
    assert error.value.code == "tipo_cambio_requerido"
    assert CashMovement.objects.count() == 0


def test_checks_need_the_data_sat_asks_for(company):
    with pytest.raises(DomainError) as error:
        deposit(company, bank(company), "10", method="02", beneficiary="CLIENTE")
    assert error.value.code == "datos_contabilidad_electronica"
    assert error.value.details["missing"] == [
        "número de cheque", "banco de la contraparte", "cuenta de la contraparte", "RFC del beneficiario",
    ]  # fmt: skip
    assert CashMovement.objects.count() == 0


def test_checks_go_through_banks_not_cash_boxes(company):
    with pytest.raises(DomainError) as error:
        deposit(company, cash_box(company), "10", method="02")
    assert error.value.code == "movimiento_invalido"


def test_linked_movement_posts_its_entry_with_the_e_accounting_record(company, cashier):
    chart = demo_chart(company)
    account = bank(company, chart)
    movement = create_cash_movement(
        company=company, account=account, kind="withdrawal", date=date(2026, 2, 11), amount="500.00",
        method="02", concept="Pago a proveedor", check_number="77", beneficiary="PROVEEDORA DEL NORTE",
        beneficiary_rfc="URE180429TM6", counterpart_account=chart.inventario, user=cashier,
    )  # fmt: skip
    entry = movement.journal_entry
    assert entry.kind == JournalEntry.Kind.EXPENSE and entry.total == D("500.00")
    assert [(line.account, line.debit, line.credit) for line in entry.lines.order_by("position")] == [
        (chart.bancos, D(0), D("500.00")),
        (chart.inventario, D("500.00"), D(0)),
    ]
    record = PaymentRecord.objects.get()
    assert (record.kind, record.check_number, record.origin_bank, record.origin_account) == (
        "check",
        "77",
        "012",
        "0123456789",
    )
    assert record.line.account == chart.bancos


def test_cash_journal_line_of_a_foreign_account_is_in_pesos_with_the_foreign_amount(company):
    chart = demo_chart(company)
    account = bank(company, chart, code="USD1", currency_code="USD")
    movement = deposit(company, account, "100", exchange_rate="18.50", method="03", counterparty_bank="002",
                       counterparty_account="555", beneficiary="CLIENTE SA", beneficiary_rfc="URE180429TM6")  # fmt: skip
    line = cash_journal_line(movement)
    assert (line["debit"], line["foreign_amount"], line["currency"].code) == (D("1850.00"), D("100"), "USD")
    payment = line["payments"][0]
    assert (payment["kind"], payment["origin_bank"], payment["dest_bank"], payment["currency"]) == (
        "transfer",
        "002",
        "012",
        "USD",
    )


def test_balances_at_a_date_and_cancel_reverses(company, accountant):
    chart = demo_chart(company)
    account = bank(company, chart)
    other = cash_box(company)
    deposit(company, account, "1000", date=date(2026, 2, 1))
    late = deposit(company, account, "300", date=date(2026, 2, 20), counterpart_account=chart.clientes)
    create_cash_movement(company=company, account=account, kind="withdrawal", date=date(2026, 2, 5), amount="250",
                         method="01", concept="Retiro")  # fmt: skip
    deposit(company, other, "40", date=date(2026, 2, 2))

    assert balance_at(account=account, date=date(2026, 2, 10)) == D("750.00")
    assert balance_at(account=account, date=date(2026, 2, 28)) == D("1050.00")
    rows = {a.code: a.deposits - a.withdrawals for a in balances_at(company=company, date=date(2026, 2, 28))}
    assert rows == {account.code: D("1050.00"), other.code: D("40.00")}

    cancel_cash_movement(movement=late, user=accountant)
    late.refresh_from_db()
    late.journal_entry.refresh_from_db()
    assert late.status == CashMovement.Status.CANCELLED and late.cancelled_by == accountant
    assert late.journal_entry.status == JournalEntry.Status.CANCELLED
    assert balance_at(account=account, date=date(2026, 2, 28)) == D("750.00")
    with pytest.raises(DomainError) as error:
        cancel_cash_movement(movement=late)
    assert error.value.status == 409


def test_one_income_entry_for_a_foreign_invoice_collected_through_two_accounts(company):
    """Seed A.2, A.3 and A.7: a USD invoice collected into a national cash box at the rate and a
    USD bank; one póliza de ingresos ties both movements, with one e-accounting record each."""
    chart = demo_chart(company)
    usd = currency("USD")
    box, usd_bank = cash_box(company, chart), bank(company, chart, code="USD1", currency_code="USD")
    check_collection_accounts(document_currency=usd, accounts=[box, usd_bank], document_is_contable=True)
    origin = "Ventas|15|MTY||"
    in_box = deposit(company, box, "40.00", document_currency=usd, exchange_rate="18.00", origin=origin)
    in_bank = deposit(company, usd_bank, "60.00", exchange_rate="18.00", method="03", counterparty_bank="002",
                      counterparty_account="555", beneficiary="CLIENTE SA", beneficiary_rfc="URE180429TM6",
                      origin=origin)  # fmt: skip
    lines = [cash_journal_line(in_box), cash_journal_line(in_bank)]
    total = sum(line["debit"] for line in lines)
    entry = post_journal_entry(
        company=company, kind="I", date=date(2026, 2, 10), concept="Cobro factura A-15", origin=origin,
        lines=[*lines, {"account": chart.ventas, "credit": total}],
    )  # fmt: skip
    link_movements_to_entry(movements=[in_box, in_bank], entry=entry)

    assert total == D("1800.00")  # 40 × 18 + 60 × 18
    assert set(CashMovement.objects.values_list("journal_entry", flat=True)) == {entry.pk}
    assert sorted(PaymentRecord.objects.values_list("kind", flat=True)) == ["other", "transfer"]
    xml = journal_entries_xml(
        company=company, year=2026, month=2, request_type="CO", procedure_number="AB123456789012"
    )
    assert schema_errors(xml, "polizas") == []

    assert cancel_entries_for_origin(company=company, origin=origin) == 1
    entry.refresh_from_db()
    assert entry.status == JournalEntry.Status.CANCELLED
