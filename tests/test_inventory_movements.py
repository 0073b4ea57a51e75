"""Stock movements: weighted average cost, negative stock, cost entries, audit/revert/cancel."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from accounting.models import AccountingVariable, JournalEntry, JournalLine
from accounting.variables import Variable
from erp.errors import DomainError
from inventory.integrity import stock_level_breaks
from inventory.models import StockLevel, StockMovement, StockMovementEvent, StockMovementLine
from inventory.selectors import stock_level
from inventory.services import (
    adjust_stock,
    audit_stock_movement,
    cancel_stock_movement,
    create_stock_movement,
    revert_stock_movement,
)
from tests.factories import ProductFactory, WarehouseFactory
from tests.factories_ledgers import demo_chart, linked_warehouse

pytestmark = pytest.mark.django_db
D = Decimal
DAY = date(2026, 2, 10)


def move(company, warehouse, kind, *lines, user=None):
    return create_stock_movement(
        company=company,
        warehouse=warehouse,
        kind=kind,
        date=DAY,
        concept=f"{kind} de prueba",
        origin="Ventas|1|MTY||",
        lines=[{"product": p, "quantity": q, "unit_cost": c} for p, q, c in lines],
        user=user,
    )


def entry(company, warehouse, product, quantity, cost):
    return move(company, warehouse, "entry", (product, quantity, cost))


def exit_(company, warehouse, product, quantity):
    return move(company, warehouse, "exit", (product, quantity, None))


def level(warehouse, product):
    current = stock_level(warehouse=warehouse, product=product)
    return current.quantity, current.average_cost


def test_a_sequence_of_movements_gives_hand_made_stock_and_average_cost(company):
    warehouse = WarehouseFactory(company=company)
    product = ProductFactory(company=company)

    entry(company, warehouse, product, 10, "10.00")  # 10 @ 10
    assert level(warehouse, product) == (D(10), D(10))
    entry(company, warehouse, product, 5, "13.00")  # (100 + 65) / 15 = 11
    assert level(warehouse, product) == (D(15), D(11))
    sale = exit_(company, warehouse, product, 6)  # leaves at 11: 66.00
    assert level(warehouse, product) == (D(9), D(11))
    assert sale.lines.get().unit_cost == D(11) and sale.total_cost == D("66.00")
    entry(company, warehouse, product, 3, "15.00")  # (99 + 45) / 12 = 12
    assert level(warehouse, product) == (D(12), D(12))
    exit_(company, warehouse, product, 12)  # 144.00, nothing left
    assert level(warehouse, product) == (D(0), D(12))
    entry(company, warehouse, product, 4, "9.50")  # nothing on hand: the entry's cost
    assert level(warehouse, product) == (D(4), D("9.5"))
    # a non-round average: (4 × 9.50 + 2 × 10.00) / 6 = 9.666667
    entry(company, warehouse, product, 2, "10.00")
    assert level(warehouse, product) == (D(6), D("9.666667"))


def test_exit_beyond_stock_is_refused_naming_product_and_on_hand(company):
    warehouse = WarehouseFactory(company=company, code="B1", allow_negative_stock=False)
    product = ProductFactory(company=company, code="TOR-01", description="Tornillo")
    entry(company, warehouse, product, 4, "2.00")
    movements, lines = StockMovement.objects.count(), StockMovementLine.objects.count()

    with pytest.raises(DomainError) as error:
        exit_(company, warehouse, product, "5")
    assert error.value.code == "existencia_insuficiente"
    assert error.value.message == (
        "No hay existencia suficiente de TOR-01 Tornillo en la bodega B1: hay 4 y la salida requiere 5."
    )
    assert level(warehouse, product) == (D(4), D(2))
    assert (StockMovement.objects.count(), StockMovementLine.objects.count()) == (movements, lines)
    assert StockMovementEvent.objects.count() == 1


def test_a_warehouse_that_allows_negative_stock_lets_it_go_below_zero(company):
    warehouse = WarehouseFactory(company=company, allow_negative_stock=True)
    product = ProductFactory(company=company)
    entry(company, warehouse, product, 1, "5.00")
    exit_(company, warehouse, product, 3)
    assert level(warehouse, product) == (D(-2), D(5))


def test_unlinked_warehouse_posts_no_cost_entry(company):
    demo_chart(company)
    warehouse = WarehouseFactory(company=company)
    product = ProductFactory(company=company)
    entry(company, warehouse, product, 2, "5.00")
    assert exit_(company, warehouse, product, 1).journal_entry is None
    assert JournalEntry.objects.count() == 0


def test_linked_warehouse_posts_cost_of_sales_against_inventory(company):
    chart = demo_chart(company)
    warehouse = linked_warehouse(company, chart)
    product = ProductFactory(company=company)
    stock_in = entry(company, warehouse, product, 10, "4.00")  # a return-like entry: inventory against cost
    sale = exit_(company, warehouse, product, 3)

    lines = list(JournalLine.objects.filter(entry=sale.journal_entry).order_by("position"))
    assert [(line.account, line.debit, line.credit) for line in lines] == [
        (chart.costo_ventas, D("12.00"), D(0)),
        (chart.inventario, D(0), D("12.00")),
    ]
    assert sale.journal_entry.kind == JournalEntry.Kind.GENERAL
    assert sale.journal_entry.origin == sale.reference == f"Almacén|{sale.pk}|{warehouse.code}||"
    returned = list(stock_in.journal_entry.lines.order_by("position"))
    assert [(line.account, line.debit) for line in returned] == [
        (chart.inventario, D("40.00")),
        (chart.costo_ventas, D(0)),
    ]


def test_linked_warehouse_without_cost_variable_fails_and_leaves_nothing(company):
    chart = demo_chart(company)
    AccountingVariable.objects.filter(company=company, name=Variable.COST_OF_SALES).update(account=None)
    warehouse = linked_warehouse(company, chart)
    product = ProductFactory(company=company)

    with pytest.raises(DomainError) as error:
        entry(company, warehouse, product, 1, "1.00")
    assert error.value.message == "La cuenta Cuenta de costo de ventas no existe o no se ha enlazado"
    assert StockMovement.objects.count() == StockLevel.objects.count() == JournalEntry.objects.count() == 0


def test_services_have_no_stock(company):
    warehouse = WarehouseFactory(company=company)
    service = ProductFactory(company=company, is_service=True)
    with pytest.raises(DomainError) as error:
        entry(company, warehouse, service, 1, "1")
    assert error.value.code == "producto_invalido"
    assert StockMovement.objects.count() == 0


def test_audit_is_for_managers_of_the_warehouse(company, accountant, cashier):
    warehouse = WarehouseFactory(company=company)
    warehouse.managers.add(accountant)
    product = ProductFactory(company=company)
    movement = entry(company, warehouse, product, 1, "1")

    with pytest.raises(DomainError) as error:
        audit_stock_movement(movement=movement, user=cashier)
    assert error.value.code == "no_es_encargado" and error.value.status == 403
    movement.refresh_from_db()
    assert movement.status == StockMovement.Status.GENERATED

    audit_stock_movement(movement=movement, user=accountant)
    movement.refresh_from_db()
    assert movement.status == StockMovement.Status.AUDITED
    assert list(movement.events.values_list("action", "user")) == [
        ("created", None),
        ("audited", accountant.pk),
    ]
    with pytest.raises(DomainError) as error:
        audit_stock_movement(movement=movement, user=accountant)
    assert error.value.status == 409


def test_revert_undoes_stock_and_cost_entry_then_only_cancel_is_allowed(company, accountant):
    chart = demo_chart(company)
    warehouse = linked_warehouse(company, chart)
    warehouse.managers.add(accountant)
    product = ProductFactory(company=company)
    entry(company, warehouse, product, 10, "10.00")
    sale = exit_(company, warehouse, product, 4)
    audit_stock_movement(movement=sale, user=accountant)

    revert_stock_movement(movement=sale, user=accountant)
    sale.refresh_from_db()
    sale.journal_entry.refresh_from_db()
    assert sale.status == StockMovement.Status.REVERTED
    assert sale.journal_entry.status == JournalEntry.Status.CANCELLED
    assert level(warehouse, product) == (D(10), D(10))

    for action in (audit_stock_movement, revert_stock_movement):
        with pytest.raises(DomainError) as error:
            action(movement=sale, user=accountant)
        assert error.value.code == "estatus_invalido"
    cancel_stock_movement(movement=sale, user=accountant)
    sale.refresh_from_db()
    assert sale.status == StockMovement.Status.CANCELLED
    assert level(warehouse, product) == (D(10), D(10))  # not undone twice
    assert list(sale.events.values_list("action", flat=True)) == [
        "created",
        "audited",
        "reverted",
        "cancelled",
    ]
    with pytest.raises(DomainError):
        cancel_stock_movement(movement=sale, user=accountant)


def test_cancelling_an_entry_restores_the_previous_average(company):
    warehouse = WarehouseFactory(company=company)
    product = ProductFactory(company=company)
    entry(company, warehouse, product, 10, "10.00")
    second = entry(company, warehouse, product, 10, "20.00")
    assert level(warehouse, product) == (D(20), D(15))
    cancel_stock_movement(movement=second)
    assert level(warehouse, product) == (D(10), D(10))


def test_cancelling_an_entry_whose_units_left_is_refused(company):
    warehouse = WarehouseFactory(company=company, code="B9")
    product = ProductFactory(company=company, code="X1", description="Equis")
    first = entry(company, warehouse, product, 5, "1.00")
    exit_(company, warehouse, product, 4)
    with pytest.raises(DomainError) as error:
        cancel_stock_movement(movement=first)
    assert error.value.message == (
        "No hay existencia suficiente de X1 Equis en la bodega B9: hay 1 y deshacer la entrada requiere 5."
    )
    first.refresh_from_db()
    assert first.status == StockMovement.Status.GENERATED
    assert level(warehouse, product) == (D(1), D(1))


def test_query_count_does_not_grow_with_lines(company):
    chart = demo_chart(company)
    warehouse = linked_warehouse(company, chart)
    products = [ProductFactory(company=company) for _ in range(30)]
    entry(company, warehouse, products[0], 1, "1")  # the month's póliza sequence exists now

    def count(n):
        with CaptureQueriesContext(connection) as ctx:
            move(company, warehouse, "entry", *[(p, 2, "3.00") for p in products[:n]])
        return len(ctx)

    assert count(2) == count(30)


def count_stock(company, warehouse, counts, new_products=frozenset()):
    return adjust_stock(
        company=company,
        warehouse=warehouse,
        date=DAY,
        concept="Conteo",
        origin="SAE|1|1||",
        counts=[{"product": p, "quantity": q, "unit_cost": c} for p, q, c in counts],
        new_products=new_products,
    )


def test_a_count_of_products_new_in_the_transaction_inserts_their_levels_once_with_what_it_leaves(company):
    warehouse = WarehouseFactory(company=company, allow_negative_stock=True)
    known = ProductFactory(company=company)
    entry(company, warehouse, known, 4, "10")
    new = [ProductFactory(company=company) for _ in range(3)]
    with CaptureQueriesContext(connection) as ctx:
        movements = count_stock(
            company,
            warehouse,
            [(known, 6, "20"), (new[0], "2.5", "8.1234567"), (new[1], -3, "5"), (new[2], 0, "7")],
            new_products={p.pk for p in new},
        )
    assert [m.kind for m in movements] == ["entry", "exit"]
    # the new products' rows: inserted, never inserted empty and updated (one UPDATE: the known one's)
    sql = [q["sql"] for q in ctx.captured_queries]
    # (SQLite's UPDATE starts with its WITH … VALUES list: look for the statement anywhere)
    update = f"UPDATE {connection.ops.quote_name(StockLevel._meta.db_table)} SET"
    assert sum(update in s for s in sql) == 1
    assert level(warehouse, known) == (D(6), D("13.333333"))
    assert level(warehouse, new[0]) == (D("2.5"), D("8.123457"))
    assert level(warehouse, new[1]) == (D(-3), D(0))
    assert level(warehouse, new[2]) == (D(0), D(0))  # counted at zero: its row, empty
    assert not stock_level_breaks(company)


def test_a_product_wrongly_claimed_new_is_refused_by_its_existing_level(company):
    warehouse = WarehouseFactory(company=company)
    product = ProductFactory(company=company)
    entry(company, warehouse, product, 4, "10")
    with pytest.raises(IntegrityError):
        count_stock(company, warehouse, [(product, 6, "20")], new_products={product.pk})
    assert level(warehouse, product) == (D(4), D(10))
