"""erp.db.insert_family: a row and its children in one statement on Postgres (issue 20), with
the same results as saving them one by one: keys set, defaults applied, and a value the column
refuses refused, not truncated."""

from decimal import Decimal as D

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from erp.db import Rows, insert_family
from inventory.models import StockMovement, StockMovementEvent, StockMovementLine
from tests.factories import ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on Postgres only")


def family(company, concept="Entrada de prueba"):
    warehouse = WarehouseFactory(company=company)
    products = [ProductFactory(company=company, code=f"F{n}") for n in range(3)]
    movement = StockMovement(company=company, warehouse=warehouse, kind="entry", date="2026-11-20",
                             concept=concept, total_cost=30)  # fmt: skip
    lines = [
        StockMovementLine(movement=movement, position=n, product=p, quantity=1, unit_cost=10, total_cost=10)
        for n, p in enumerate(products, start=1)
    ]
    event = StockMovementEvent(movement=movement, action="created")
    return movement, lines, event


@postgres_only
def test_a_movement_its_lines_and_event_are_written_in_one_statement(company):
    movement, lines, event = family(company)
    with CaptureQueriesContext(connection) as captured:
        assert insert_family(movement, [("movement_id", lines), ("movement_id", [event])]) is True
    assert len(captured) == 1
    stored = StockMovement.objects.get(pk=movement.pk)
    assert (stored.status, stored.concept, stored.total_cost) == ("generated", "Entrada de prueba", 30)
    assert [(ln.pk, ln.position) for ln in stored.lines.order_by("position")] == [
        (ln.pk, ln.position) for ln in lines
    ]
    assert list(stored.events.values_list("pk", "action")) == [(event.pk, "created")]
    assert event.at is not None and not movement._state.adding


@postgres_only
def test_a_value_too_long_for_its_column_is_refused_not_truncated(company):
    movement, lines, event = family(company, concept="X" * 301)
    with pytest.raises(DataError), transaction.atomic():
        insert_family(movement, [("movement_id", lines)])
    assert not StockMovement.objects.filter(company=company).exists()


def test_other_databases_are_left_to_the_orm(company, monkeypatch):
    movement, lines, _ = family(company)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert insert_family(movement, [("movement_id", lines)]) is None
    assert movement.pk is None


@postgres_only
def test_children_given_as_plain_rows_are_written_in_the_same_statement(company):
    movement, lines, event = family(company)
    rows = Rows(
        StockMovementLine,
        ["position", "product_id", "quantity", "unit_cost", "total_cost"],
        [(ln.position, ln.product_id, D(ln.quantity), D(ln.unit_cost), D(ln.total_cost)) for ln in lines],
    )
    with CaptureQueriesContext(connection) as captured:
        assert insert_family(movement, [("movement_id", rows), ("movement_id", [event])]) is True
    assert len(captured) == 1
    stored = StockMovement.objects.get(pk=movement.pk)
    assert list(stored.lines.order_by("position").values_list("position", "product_id", "quantity")) == [
        (ln.position, ln.product_id, D(1)) for ln in lines
    ]
    assert event.pk is not None


@postgres_only
def test_plain_rows_break_the_column_rules_as_objects_do(company):
    movement, lines, _ = family(company)
    rows = Rows(StockMovementLine, ["position", "product_id", "quantity", "unit_cost", "total_cost"],
                [(1, lines[0].product_id, D(0), D(1), D(0))])  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():  # quantity > 0
        insert_family(movement, [("movement_id", rows)])
    assert not StockMovement.objects.filter(company=company).exists()
