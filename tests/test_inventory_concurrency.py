"""Two cashiers exit the last units at once: with negative stock refused, exactly one succeeds.

Real threads, each with its own database connection, against PostgreSQL row locks."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from erp.errors import DomainError
from inventory.models import StockLevel, StockMovement
from inventory.services import create_stock_movement
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
