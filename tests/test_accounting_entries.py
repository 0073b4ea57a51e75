"""Journal entries: posting, numbering, refusals that leave nothing behind, variables, cancel."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounting.models import AccountingVariable, JournalEntry, JournalLine, PaymentRecord
from accounting.services import cancel_journal_entry, close_period, post_journal_entry, require_variables
from accounting.variables import SALES_VARIABLES, Variable
from erp.errors import DomainError
from tests.factories import set_all_variables
from tests.factories_ledgers import demo_chart

pytestmark = pytest.mark.django_db


@pytest.fixture
def chart(company):
    return demo_chart(company)


def _sale(chart, amount="1160.00"):
    return [
        {"account": chart.caja, "debit": amount},
        {
            "account": chart.ventas,
            "credit": Decimal(amount) - Decimal(amount) / Decimal("1.16") * Decimal("0.16"),
        },
        {"account": chart.iva, "credit": Decimal(amount) / Decimal("1.16") * Decimal("0.16")},
    ]


def test_posting_numbers_entries_per_kind_and_month(company, chart):
    first = post_journal_entry(
        company=company, kind="I", date=date(2026, 1, 5), concept="Venta 1", lines=_sale(chart)
    )
    second = post_journal_entry(
        company=company, kind="I", date=date(2026, 1, 9), concept="Venta 2", lines=_sale(chart)
    )
    general = post_journal_entry(
        company=company,
        kind="D",
        date=date(2026, 1, 9),
        concept="Costo",
        lines=[{"account": chart.costo_ventas, "debit": 10}, {"account": chart.inventario, "credit": 10}],
    )
    february = post_journal_entry(
        company=company, kind="I", date=date(2026, 2, 1), concept="Venta 3", lines=_sale(chart)
    )

    assert [first.number, second.number, general.number, february.number] == [1, 2, 1, 1]
    assert first.sat_id == "I-1" and general.sat_id == "D-1"
    assert first.total == Decimal("1160.00")
    assert [(line.debit, line.credit) for line in first.lines.order_by("position")] == [
        (Decimal("1160.00"), Decimal("0")),
        (Decimal("0"), Decimal("1000.00")),
        (Decimal("0"), Decimal("160.00")),
    ]


def test_unbalanced_entry_is_refused_and_leaves_no_row(company, chart):
    with pytest.raises(DomainError) as error:
        post_journal_entry(
            company=company,
            kind="D",
            date=date(2026, 1, 5),
            concept="Descuadrada",
            lines=[{"account": chart.caja, "debit": "100.00"}, {"account": chart.ventas, "credit": "99.99"}],
        )
    assert error.value.code == "poliza_descuadrada"
    assert error.value.message == "La póliza no cuadra: cargos 100.00 y abonos 99.99."
    assert JournalEntry.objects.count() == 0
    assert JournalLine.objects.count() == 0


def test_non_postable_account_is_refused(company, chart):
    with pytest.raises(DomainError) as error:
        post_journal_entry(
            company=company,
            kind="D",
            date=date(2026, 1, 5),
            concept="A una cuenta de acumulación",
            lines=[{"account": chart.caja_bancos, "debit": 5}, {"account": chart.ventas, "credit": 5}],
        )
    assert error.value.code == "cuenta_no_afectable"
    assert "101 Caja y bancos" in error.value.message
    assert JournalEntry.objects.count() == 0


def test_a_line_with_both_sides_is_refused(company, chart):
    with pytest.raises(DomainError) as error:
        post_journal_entry(
            company=company,
            kind="D",
            date=date(2026, 1, 5),
            concept="x",
            lines=[{"account": chart.caja, "debit": 5, "credit": 5}],
        )
    assert error.value.code == "partida_invalida"
    assert JournalEntry.objects.count() == 0


def test_account_of_another_company_is_refused(company, other_company, chart):
    foreign = demo_chart(other_company)
    with pytest.raises(DomainError) as error:
        post_journal_entry(
            company=company,
            kind="D",
            date=date(2026, 1, 5),
            concept="x",
            lines=[{"account": foreign.caja, "debit": 5}, {"account": chart.ventas, "credit": 5}],
        )
    assert error.value.code == "cuenta_invalida"
    assert JournalEntry.objects.count() == 0


def test_closed_period_refuses_posting_and_cancelling(company, chart):
    entry = post_journal_entry(
        company=company, kind="I", date=date(2026, 1, 5), concept="Venta", lines=_sale(chart)
    )
    close_period(company=company, year=2026, month=1)
    with pytest.raises(DomainError) as error:
        post_journal_entry(
            company=company, kind="I", date=date(2026, 1, 6), concept="Tarde", lines=_sale(chart)
        )
    assert error.value.code == "periodo_cerrado"
    with pytest.raises(DomainError):
        cancel_journal_entry(entry=entry)
    entry.refresh_from_db()
    assert entry.status == JournalEntry.Status.POSTED
    assert JournalEntry.objects.count() == 1


def test_cancel_entry_records_who_and_when(company, chart, accountant):
    entry = post_journal_entry(
        company=company, kind="I", date=date(2026, 1, 5), concept="Venta", lines=_sale(chart)
    )
    cancel_journal_entry(entry=entry, user=accountant)
    entry.refresh_from_db()
    assert entry.status == JournalEntry.Status.CANCELLED
    assert entry.cancelled_by == accountant and entry.cancelled_at is not None
    with pytest.raises(DomainError) as error:
        cancel_journal_entry(entry=entry, user=accountant)
    assert error.value.status == 409


def test_payment_records_are_stored_under_their_line(company, chart):
    entry = post_journal_entry(
        company=company,
        kind="I",
        date=date(2026, 1, 5),
        concept="Cobro",
        lines=[
            {
                "account": chart.bancos,
                "debit": 100,
                "payments": [
                    {
                        "kind": "transfer",
                        "date": date(2026, 1, 5),
                        "beneficiary": "ESCUELA KEMPER URGATE",
                        "rfc": "URE180429TM6",
                        "amount": 100,
                        "origin_bank": "002",
                        "origin_account": "111",
                        "dest_bank": "012",
                        "dest_account": "222",
                    }
                ],
            },
            {"account": chart.clientes, "credit": 100},
        ],
    )
    record = PaymentRecord.objects.get()
    assert record.line.entry == entry and record.line.account == chart.bancos


def test_incomplete_payment_record_is_refused(company, chart):
    with pytest.raises(DomainError) as error:
        post_journal_entry(
            company=company,
            kind="E",
            date=date(2026, 1, 5),
            concept="Pago",
            lines=[
                {"account": chart.costo_ventas, "debit": 100},
                {
                    "account": chart.bancos,
                    "credit": 100,
                    "payments": [
                        {
                            "kind": "check",
                            "date": date(2026, 1, 5),
                            "beneficiary": "X",
                            "rfc": "URE180429TM6",
                            "amount": 100,
                        }
                    ],
                },
            ],
        )
    assert error.value.code == "registro_invalido"
    assert "check_number" in error.value.message
    assert JournalEntry.objects.count() == 0 and PaymentRecord.objects.count() == 0


def test_posting_query_count_does_not_grow_with_lines(company, chart):
    def count(n):
        lines = [{"account": chart.caja, "debit": 1} for _ in range(n)] + [
            {"account": chart.ventas, "credit": n}
        ]
        with CaptureQueriesContext(connection) as ctx:
            post_journal_entry(company=company, kind="D", date=date(2026, 3, 1), concept="n", lines=lines)
        return len(ctx)

    count(1)  # the month's sequence row now exists
    assert count(2) == count(40)


def test_require_variables_names_the_missing_variable(company):
    AccountingVariable.objects.create(company=company, name=Variable.COST_OF_SALES, account=None)
    with pytest.raises(DomainError) as error:
        require_variables(company=company, names=[Variable.COST_OF_SALES])
    assert error.value.code == "variable_sin_cuenta"
    assert error.value.message == "La cuenta Cuenta de costo de ventas no existe o no se ha enlazado"


def test_require_variables_lists_every_missing_one_like_the_seed(company, chart):
    with pytest.raises(DomainError) as error:
        require_variables(
            company=company,
            names=[
                Variable.SALES_INCOME,
                Variable.SALES_DISCOUNTS,
                Variable.RETAINED_ISR,
                Variable.NO_PAYMENT_COUNTERPART,
            ],
        )
    assert error.value.message == (
        "La cuenta Cuenta de descuentos sobre ventas, Cuenta de retención de ISR o Cuenta para registros de "
        "partida doble en ventas sin ningún tipo de cobro, ni crédito, ni contado no existe o no se ha enlazado"
    )
    assert error.value.details["variables"] == ["VEN_DESCUENTOS", "VEN_RET_ISR", "CC_VENNP"]


def test_require_variables_returns_the_accounts(company, chart):
    accounts = require_variables(company=company, names=[Variable.SALES_INCOME, Variable.COST_OF_SALES])
    assert accounts == {"VEN_INGRESOS": chart.ventas, "VEN_COSTO": chart.costo_ventas}


def test_sales_can_check_all_its_variables_in_one_query(company, django_assert_num_queries):
    set_all_variables(company)
    with django_assert_num_queries(1):
        accounts = require_variables(company=company, names=SALES_VARIABLES)
    assert set(accounts) == set(SALES_VARIABLES)
