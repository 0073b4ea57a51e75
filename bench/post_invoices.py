#!/usr/bin/env python
"""Invoices posted end to end per second on Postgres, with two processes, and SQL queries per invoice.

Each invoice is created and posted through the services (10 lines, alternately contado into the
cash box and crédito, entity contable, warehouse linked: cash or receivable, pólizas, stock exit
and its cost entry). CFDI sealing runs after commit in the Celery workers and is not part of
posting, so the demo CSD is switched off here. The query counts are taken for 1-line and 50-line
invoices to show they do not grow with the lines.

Beside it, the same rows are written with bare ORM calls and no business rules (bare_orm_invoice):
the issue sets its target against that floor, so services_to_bare_ratio compares machines. The
two runs alternate for a few rounds and the medians are printed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_bench python bench/post_invoices.py [per_process] [rounds]

The database named by DATABASE_URL is dropped and recreated: never point it at real data.
"""

import multiprocessing
import os
import statistics
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

from django.db import connection, connections, transaction  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounting.models import JournalEntry, JournalLine, JournalSequence, PaymentRecord  # noqa: E402
from accounting.services import require_variables  # noqa: E402
from accounting.variables import SALES_VARIABLES, Variable  # noqa: E402
from bench.scratch import recreate_database  # noqa: E402
from cashbank.models import CashBankAccount, CashMovement  # noqa: E402
from cfdi.models import Csd  # noqa: E402
from demo.services import load_demo  # noqa: E402
from erp.models import Currency  # noqa: E402
from inventory.models import (  # noqa: E402
    Product,
    StockLevel,
    StockMovement,
    StockMovementEvent,
    StockMovementLine,
    Warehouse,
)
from inventory.services import create_stock_movement  # noqa: E402
from sales.document_models import SalesDocument, SalesDocumentLine  # noqa: E402
from sales.documents import LineRequest, create_document  # noqa: E402
from sales.models import Customer, SalesEntity  # noqa: E402
from sales.posting import Collection, post_invoice  # noqa: E402
from sales.receivables.models import Receivable  # noqa: E402

PROCESSES = 2
DAY = date(2026, 11, 20)


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
    entity = SalesEntity.objects.select_related("company", "warehouse").get(company=company, code="PACHUCA")
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
    if not cash:  # the cash box is looked up for the invoices it collects only
        return post_invoice(document=document)
    account = CashBankAccount.objects.select_related("currency", "ledger_account").get(
        company=company, code="CAJA"
    )
    return post_invoice(document=document, collections=[Collection(account=account, amount=document.total)])


def bare_context(company) -> dict:
    """What the bare-ORM baseline writes with, loaded once (no checks, no lookups per invoice)."""
    entity = SalesEntity.objects.select_related("warehouse").get(company=company, code="PACHUCA")
    products = list(Product.objects.filter(company=company, code__startswith="BENCH").order_by("code"))
    return {
        "company": company,
        "entity": entity,
        "customer": Customer.objects.get(entity=entity, number=1),
        "currency": Currency.objects.get(is_national=True),
        "cash": CashBankAccount.objects.get(company=company, code="CAJA"),
        "products": products,
        "accounts": require_variables(company=company, names=SALES_VARIABLES),
        "levels": {
            level.product_id: level
            for level in StockLevel.objects.filter(warehouse=entity.warehouse, product__in=products)
        },
    }


def _bare_entry(ctx, kind: str, lines: list[tuple]) -> JournalEntry:
    key = {"company": ctx["company"], "kind": kind, "year": DAY.year, "month": DAY.month}
    sequences = JournalSequence.objects.filter(**key)
    sequences.update(last_number=F("last_number") + 1)
    entry = JournalEntry.objects.create(
        **key, date=DAY, number=sequences.values_list("last_number", flat=True).get(),
        concept="Factura", total=sum(line[1] for line in lines),
    )  # fmt: skip
    entry.first_line = JournalLine.objects.bulk_create(
        [
            JournalLine(entry=entry, position=n, account=account, debit=debit, credit=credit)
            for n, (account, debit, credit) in enumerate(lines, start=1)
        ]
    )[0]
    return entry


@transaction.atomic
def bare_orm_invoice(ctx, number: int, lines: int = 10) -> None:
    """The rows one posted invoice writes, written with bare ORM calls and no business rules:
    the floor that the services' figure is compared with."""
    entity, customer, accounts = ctx["entity"], ctx["customer"], ctx["accounts"]
    cash = number % 2 == 0
    SalesEntity.objects.filter(pk=entity.pk).update(next_number=F("next_number") + 1)
    document = SalesDocument.objects.create(
        company=ctx["company"], kind="invoice", entity=entity, number=1_000_000 + number, date=DAY,
        payment="cash" if cash else "credit", customer=customer, customer_number=customer.number,
        customer_rfc=customer.rfc, customer_name=customer.name, customer_postal_code=customer.postal_code,
        customer_regimen_fiscal=customer.regimen_fiscal, customer_uso_cfdi=customer.uso_cfdi,
        currency=ctx["currency"], warehouse=entity.warehouse, status="generated",
        importe=Decimal("1000"), subtotal=Decimal("1000"), iva=Decimal("160"), total=Decimal("1160"),
    )  # fmt: skip
    products = [ctx["products"][(number + n) % len(ctx["products"])] for n in range(lines)]
    SalesDocumentLine.objects.bulk_create(
        SalesDocumentLine(
            document=document, position=n, product=p, code=p.code, unit=p.unit, description=p.description,
            quantity=Decimal(1), unit_price=Decimal(100), iva_rate=Decimal(16), importe=Decimal(100),
            iva=Decimal(16),
        )
        for n, p in enumerate(products, start=1)
    )  # fmt: skip
    total, income, iva = Decimal("1160"), Decimal("1000"), Decimal("160")
    if cash:
        entry = _bare_entry(
            ctx, "I", [(ctx["cash"].ledger_account, total, 0), (accounts[Variable.SALES_INCOME], 0, income),
                       (accounts[Variable.IVA_TRANSFERRED], 0, iva)],
        )  # fmt: skip
        CashMovement.objects.create(
            company=ctx["company"], account=ctx["cash"], kind="deposit", date=DAY, amount=total,
            document_currency=ctx["currency"], document_amount=total, method="01", concept="Cobro",
            journal_entry=entry,
        )  # fmt: skip
        PaymentRecord.objects.create(
            line=entry.first_line, kind="other", date=DAY, beneficiary="X", rfc="XAXX010101000",
            amount=total, method="01",
        )  # fmt: skip
    else:
        Receivable.objects.create(
            company=ctx["company"], customer=customer, document_number=str(number), date=DAY, due_date=DAY,
            currency=ctx["currency"], amount=total, balance=total,
        )  # fmt: skip
        _bare_entry(
            ctx, "D", [(accounts[Variable.CUSTOMERS], total, 0), (accounts[Variable.SALES_INCOME], 0, income),
                       (accounts[Variable.IVA_TRANSFERRED], 0, iva)],
        )  # fmt: skip
    levels = [ctx["levels"][p.pk] for p in products]
    for level in levels:
        level.quantity -= 1
    StockLevel.objects.bulk_update(levels, ["quantity"])
    movement = StockMovement.objects.create(
        company=ctx["company"], warehouse=entity.warehouse, kind="exit", date=DAY, concept="Salida",
        total_cost=Decimal("75"),
    )  # fmt: skip
    StockMovementLine.objects.bulk_create(
        StockMovementLine(movement=movement, position=n, product=p, quantity=1, unit_cost=Decimal("7.5"),
                          total_cost=Decimal("7.5"))
        for n, p in enumerate(products, start=1)
    )  # fmt: skip
    StockMovementEvent.objects.create(movement=movement, action="created")
    movement.journal_entry = _bare_entry(
        ctx,
        "D",
        [
            (accounts[Variable.COST_OF_SALES], Decimal("75"), 0),
            (entity.warehouse.inventory_account, 0, Decimal("75")),
        ],
    )
    movement.save(update_fields=["journal_entry"])
    document.stock_movement = movement
    document.save(update_fields=["stock_movement"])


def queries_per_invoice(company, lines: int) -> float:
    counts = []
    for number in range(2):  # one contado, one crédito
        with CaptureQueriesContext(connection) as captured:
            one_invoice(company, number, lines)
        counts.append(len(captured))
    return sum(counts) / len(counts)


def worker(company_id, mode, count, offset, start_at, results):
    connections.close_all()  # never share the parent's connection with a forked child
    from erp.models import Company

    company = Company.objects.get(pk=company_id)
    ctx = bare_context(company) if mode == "bare" else None
    while time.time() < start_at:
        time.sleep(0.001)
    begin = time.perf_counter()
    for n in range(count):
        if ctx:
            bare_orm_invoice(ctx, offset + n)
        else:
            one_invoice(company, offset + n, 10)
    results.put(time.perf_counter() - begin)
    connections.close_all()


def per_second(company, mode: str, per_process: int, offset: int) -> float:
    """Invoices per second with PROCESSES processes writing at once."""
    connections.close_all()
    results = multiprocessing.Queue()
    start_at = time.time() + 1
    workers = [
        multiprocessing.Process(
            target=worker, args=(company.pk, mode, per_process, offset + i * per_process, start_at, results)
        )
        for i in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    elapsed = max(results.get() for _ in workers)
    for process in workers:
        process.join()
    return per_process * PROCESSES / elapsed


def main():
    per_process = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    recreate_database()
    company = prepare()
    one_line = queries_per_invoice(company, 1)
    fifty_lines = queries_per_invoice(company, 50)
    for n in range(10):  # warm caches and the counters
        one_invoice(company, n, 10)
    # Alternate the two, so that whatever else the machine is doing weighs on both alike.
    services, bare = [], []
    for n in range(rounds):
        offset = n * per_process * PROCESSES
        services.append(per_second(company, "services", per_process, offset))
        bare.append(per_second(company, "bare", per_process, offset))
        print(f"round {n + 1}: services {services[-1]:.1f}/s, bare ORM {bare[-1]:.1f}/s")
    services, bare = statistics.median(services), statistics.median(bare)

    print(
        f"posted {per_process * PROCESSES} invoices of 10 lines with {PROCESSES} processes, {rounds} rounds (medians):"
    )
    print(f"invoices_per_second: {services:.1f}")
    print(f"bare_orm_invoices_per_second: {bare:.1f}")
    print(f"services_to_bare_ratio: {services / bare:.2f}")
    print(f"queries_per_invoice_1_line: {one_line:.1f}")
    print(f"queries_per_invoice_50_lines: {fifty_lines:.1f}")
    if fifty_lines > one_line:
        print(f"queries grow with lines: {one_line:.0f} for 1 line, {fifty_lines:.0f} for 50")
    else:
        print("queries do not grow with the number of lines")


if __name__ == "__main__":
    main()
