"""Concurrent stock movements: two cashiers exit the last units at once (with negative stock
refused, exactly one succeeds); first entries; a count made while a movement is open.

Real threads, each with its own database connection, against PostgreSQL row locks."""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from erp.errors import DomainError
from inventory.integrity import stock_level_breaks
from inventory.models import StockLevel, StockMovement
from inventory.services import adjust_stock, create_stock_movement
from tests.factories import CompanyFactory, ProductFactory, WarehouseFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_exits_of_the_last_units_cannot_both_succeed(postgres_only):
    company = CompanyFactory()
    warehouse = WarehouseFactory(company=company, allow_negative_stock=False)
    product = ProductFactory(company=company)
    create_stock_movement(
        company=company, warehouse=warehouse, kind="entry", date=date(2026, 2, 1), concept="Inventario inicial",
        lines=[{"product": product, "quantity": 5, "unit_cost": "10"}],
    )  # fmt: skip
    barrier = threading.Barrier(2)
    results: list[str] = []

    def sell():
        try:
            barrier.wait(timeout=10)
            create_stock_movement(
                company=company, warehouse=warehouse, kind="exit", date=date(2026, 2, 2), concept="Venta",
                lines=[{"product": product, "quantity": 4}],
            )  # fmt: skip
            results.append("ok")
        except DomainError as error:
            results.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=sell) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == ["existencia_insuficiente", "ok"]
    level = StockLevel.objects.get(warehouse=warehouse, product=product)
    assert level.quantity == Decimal(1)
    assert StockMovement.objects.filter(kind="exit").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_entries_create_one_stock_row(postgres_only):
    company = CompanyFactory()
    warehouse = WarehouseFactory(company=company)
    product = ProductFactory(company=company)
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def receive():
        try:
            barrier.wait(timeout=10)
            create_stock_movement(
                company=company, warehouse=warehouse, kind="entry", date=date(2026, 2, 1), concept="Compra",
                lines=[{"product": product, "quantity": 1, "unit_cost": "2"}],
            )  # fmt: skip
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=receive) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert StockLevel.objects.get(warehouse=warehouse, product=product).quantity == Decimal(4)


def _adjust_while_a_movement_is_open(*, stocked_before: int) -> tuple[list, list]:
    """A movement of +3 is written and held open in one thread; meanwhile another counts 10 units
    (``adjust_stock``) and must wait for it: it counts after the +3, so the level ends at 10."""
    company = CompanyFactory()
    warehouse = WarehouseFactory(company=company)
    product = ProductFactory(company=company)
    if stocked_before:
        create_stock_movement(
            company=company, warehouse=warehouse, kind="entry", date=date(2026, 2, 1), concept="Inventario inicial",
            lines=[{"product": product, "quantity": stocked_before, "unit_cost": "10"}],
        )  # fmt: skip
    entered, release = threading.Event(), threading.Event()
    errors: list[Exception] = []
    movements: list = []

    def receive():
        try:
            with transaction.atomic():
                create_stock_movement(
                    company=company, warehouse=warehouse, kind="entry", date=date(2026, 2, 2), concept="Compra",
                    lines=[{"product": product, "quantity": 3, "unit_cost": "10"}],
                )  # fmt: skip
                entered.set()
                release.wait(timeout=20)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            entered.set()
            connection.close()

    def count():
        try:
            movements.extend(
                adjust_stock(
                    company=company, warehouse=warehouse, date=date(2026, 2, 3), concept="Conteo físico",
                    origin="", counts=[{"product": product, "quantity": 10, "unit_cost": "10"}],
                )
            )  # fmt: skip
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    receiving = threading.Thread(target=receive)
    receiving.start()
    assert entered.wait(timeout=20)
    counting = threading.Thread(target=count)
    counting.start()
    # the count is waiting on the open movement's stock row before it is let go
    deadline = time.monotonic() + 20
    while not _waiting_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()
    receiving.join(timeout=30)
    counting.join(timeout=30)

    assert errors == []
    assert StockLevel.objects.get(warehouse=warehouse, product=product).quantity == Decimal(10)
    assert stock_level_breaks(company) == []
    return movements, [line.quantity for m in movements for line in m.lines.all()]


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_count_waits_for_an_open_movement_and_counts_after_it(postgres_only):
    movements, quantities = _adjust_while_a_movement_is_open(stocked_before=5)

    assert [m.kind for m in movements] == ["entry"]
    assert quantities == [Decimal(2)]  # 5 + 3 on hand when counted, not the 5 seen before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_count_waits_for_a_products_first_movement_in_the_warehouse(postgres_only):
    movements, quantities = _adjust_while_a_movement_is_open(stocked_before=0)

    assert quantities == [Decimal(7)]  # the +3 created the stock row meanwhile: 3 on hand
