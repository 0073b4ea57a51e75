#!/usr/bin/env python
"""Invoices posted end to end per second on Postgres, with two processes, and SQL queries per invoice.

Each invoice is created and posted through the services (10 lines, alternately contado into the
cash box and crédito, entity contable, warehouse linked: cash or receivable, pólizas, stock exit
and its cost entry). CFDI sealing runs after commit in the Celery workers and is not part of
posting, so the demo CSD is switched off here. The query counts are taken for 1-line and 50-line
invoices to show they do not grow with the lines.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_bench python bench/post_invoices.py [per_process]

The database named by DATABASE_URL is dropped and recreated: never point it at real data.
"""

import multiprocessing
import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/erp_bench")
# Measure as production runs: DEBUG off (no query log), with throwaway keys for this scratch database.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "S0LpfXqK1m0rCwE9oBvD0Lm6Tq1c2yQn2Vh3qGqkP9s=")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from cashbank.models import CashBankAccount  # noqa: E402
from cfdi.models import Csd  # noqa: E402
from demo.services import load_demo  # noqa: E402
from inventory.models import Product, Warehouse  # noqa: E402
from inventory.services import create_stock_movement  # noqa: E402
from sales.documents import LineRequest, create_document  # noqa: E402
from sales.models import Customer, SalesEntity  # noqa: E402
from sales.posting import Collection, post_invoice  # noqa: E402

PROCESSES = 2
DAY = date(2026, 11, 20)


def recreate_database():
    settings = connection.settings_dict
    name = settings["NAME"]
    if connection.vendor != "postgresql":
        sys.exit("bench/post_invoices.py measures Postgres: set DATABASE_URL to a scratch database.")
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)


def prepare(products: int = 60):
    company = load_demo().company
    Csd.objects.filter(company=company).update(active=False)
    line = Product.objects.get(company=company, code="A").line
    for n in range(products):
        Product.objects.get_or_create(
            company=company,
            code=f"BENCH{n:03d}",
            defaults={
                "description": f"Artículo de prueba {n}",
                "line": line,
                "unit": "PZA",
                "sat_product_key": "31161500",
                "sat_unit_key": "H87",
                "list_price": Decimal("12.345") + n,
            },
        )
    create_stock_movement(
        company=company,
        warehouse=Warehouse.objects.get(company=company, code="ALM"),
        kind="entry",
        date=date(2026, 11, 1),
        concept="Inventario para la prueba de rendimiento",
        lines=[
            {"product": p, "quantity": 1_000_000, "unit_cost": "7.50"}
            for p in Product.objects.filter(company=company, code__startswith="BENCH")
        ],
    )
    return company


def one_invoice(company, number: int, lines: int):
    entity = SalesEntity.objects.get(company=company, code="PACHUCA")
    customer = Customer.objects.select_related("salesperson").get(entity=entity, number=1)
    cash = number % 2 == 0
    requests = [LineRequest(f"BENCH{(number + n) % 60:03d}", Decimal(n % 5 + 1)) for n in range(lines)]
    document, _ = create_document(
        kind="invoice",
        entity=entity,
        customer=customer,
        date=DAY,
        lines=requests,
        payment="cash" if cash else "credit",
    )
    collections = [
        Collection(account=CashBankAccount.objects.get(company=company, code="CAJA"), amount=document.total)
    ]
    return post_invoice(document=document, collections=collections if cash else None)


def queries_per_invoice(company, lines: int) -> float:
    counts = []
    for number in range(2):  # one contado, one crédito
        with CaptureQueriesContext(connection) as captured:
            one_invoice(company, number, lines)
        counts.append(len(captured))
    return sum(counts) / len(counts)


def worker(company_id, count, offset, start_at, results):
    connections.close_all()  # never share the parent's connection with a forked child
    from erp.models import Company

    company = Company.objects.get(pk=company_id)
    while time.time() < start_at:
        time.sleep(0.001)
    begin = time.perf_counter()
    for n in range(count):
        one_invoice(company, offset + n, 10)
    results.put(time.perf_counter() - begin)
    connections.close_all()


def main():
    per_process = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    recreate_database()
    company = prepare()
    one_line = queries_per_invoice(company, 1)
    fifty_lines = queries_per_invoice(company, 50)
    for n in range(10):  # warm caches and the counters
        one_invoice(company, n, 10)
    connections.close_all()

    results = multiprocessing.Queue()
    start_at = time.time() + 1
    workers = [
        multiprocessing.Process(
            target=worker, args=(company.pk, per_process, i * per_process, start_at, results)
        )
        for i in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    elapsed = max(results.get() for _ in workers)
    for process in workers:
        process.join()

    total = per_process * PROCESSES
    print(f"posted {total} invoices of 10 lines with {PROCESSES} processes in {elapsed:.2f} s")
    print(f"invoices_per_second: {total / elapsed:.1f}")
    print(f"queries_per_invoice_1_line: {one_line:.1f}")
    print(f"queries_per_invoice_50_lines: {fifty_lines:.1f}")
    if fifty_lines > one_line:
        print(f"queries grow with lines: {one_line:.0f} for 1 line, {fifty_lines:.0f} for 50")
    else:
        print("queries do not grow with the number of lines")


if __name__ == "__main__":
    main()
