#!/usr/bin/env python
"""The main lists at 1,000 and 20,000 invoices on Postgres: SQL queries per page and median time.

Two invoices (contado and crédito, two lines of goods each) are created, posted and sealed
through the services; their rows — the document and its lines, the stock exit and its lines,
the pólizas and their lines, the CFDI — are then cloned in bulk (bare ORM, new numbers and
UUIDs) up to 1,000 invoices, the lists are read, the clones grow to 20,000 and the lists are
read again. Each list is read as its user reads it (the admin as the superuser, the cashier's
screen as the cashier, the API as the accountant), in-process through Django's test client with
DEBUG off; the query count comes from one more reading with the query log on.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_bench python bench/lists.py [small] [large] [readings]

Prints, per list, ``list_queries_1k``/``list_queries_20k`` and ``median_ms_1k``/``median_ms_20k``
(the sizes in the names are the defaults). Reference of the same run: ``reference_ms``, the
median of a bare ``SELECT`` of 50 invoices through the ORM, so figures from other machines can
be compared. The database named by DATABASE_URL is dropped and recreated: never point it at
real data.
"""

import copy
import os
import statistics
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/erp_bench")
os.environ.setdefault("DEBUG", "false")
# Production settings send plain HTTP to HTTPS (301); the in-process client reads the pages over
# plain HTTP, as behind the TLS-terminating proxy.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "S0LpfXqK1m0rCwE9oBvD0Lm6Tq1c2yQn2Vh3qGqkP9s=")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models.base import ModelState  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounting.models import JournalEntry, JournalLine  # noqa: E402
from bench.scratch import recreate_database  # noqa: E402
from cfdi.models import CfdiDocument  # noqa: E402
from demo.services import load_demo  # noqa: E402
from inventory.models import Product, StockMovement, StockMovementLine, Warehouse  # noqa: E402
from inventory.services import create_stock_movement  # noqa: E402
from sales.cfdi_mapping import SOURCE_MODEL  # noqa: E402
from sales.document_models import SalesDocument, SalesDocumentLine  # noqa: E402
from sales.documents import LineRequest, create_document  # noqa: E402
from sales.invoice_cfdi import seal_invoice  # noqa: E402
from sales.models import Customer, SalesEntity  # noqa: E402
from sales.posting import Collection, post_invoice  # noqa: E402

DAY = date(2026, 11, 20)
BATCH = 1000


def templates():
    """Two invoices posted and sealed through the services: what every clone copies."""
    company = load_demo().company
    products = [
        Product.objects.create(
            company=company,
            code=f"LIST{n}",
            description=f"Artículo {n}",
            unit="PZA",
            sat_product_key="31161500",
            sat_unit_key="H87",
            list_price=Decimal("12.50"),
        )  # fmt: skip
        for n in range(2)
    ]
    create_stock_movement(
        company=company,
        warehouse=Warehouse.objects.get(company=company, code="ALM"),
        kind="entry",
        date=date(2026, 11, 1),
        concept="Inventario para la prueba de listas",
        lines=[{"product": p, "quantity": 1_000, "unit_cost": "7.50"} for p in products],
    )
    entity = SalesEntity.objects.select_related("company", "warehouse").get(company=company, code="PACHUCA")
    customer = Customer.objects.get(entity=entity, number=1)
    cash = company.cashbankaccount_set.select_related("currency", "ledger_account").get(code="CAJA")
    invoices = []
    for payment in ("cash", "credit"):
        document, _ = create_document(
            kind="invoice", entity=entity, customer=customer, date=DAY, payment=payment,
            lines=[LineRequest(p.code, Decimal(1)) for p in products],
        )  # fmt: skip
        collections = [Collection(account=cash, amount=document.total)] if payment == "cash" else None
        invoice = post_invoice(document=document, collections=collections)
        seal_invoice(invoice=invoice)
        invoices.append(invoice)
    return company, entity, invoices


def _copies(rows, **changes):
    """Unsaved copies of ``rows`` with ``changes`` applied (for bulk_create)."""
    copies = []
    for row in rows:
        new = copy.copy(row)
        new._state = ModelState()
        new.pk = None
        for name, value in changes.items():
            setattr(new, name, value)
        copies.append(new)
    return copies


def snapshot(template: SalesDocument) -> dict:
    """The posted, sealed invoice's rows, read once before any clone shares its origin."""
    movement = template.stock_movement
    entries = list(JournalEntry.objects.filter(origin=template.origin_reference)) + [movement.journal_entry]
    return {
        "document": template,
        "movement": movement,
        "entries": entries,
        "entry_lines": {e.pk: list(JournalLine.objects.filter(entry=e)) for e in entries},
        "doc_lines": list(SalesDocumentLine.objects.filter(document=template)),
        "move_lines": list(StockMovementLine.objects.filter(movement=movement)),
        "cfdi": CfdiDocument.objects.get(source_model=SOURCE_MODEL, source_id=template.pk),
    }


def clone(rows: dict, start: int, count: int) -> None:
    """``count`` copies of the posted, sealed invoice with all its rows, numbered from ``start``."""
    template, movement, entries = rows["document"], rows["movement"], rows["entries"]
    entry_lines, doc_lines, move_lines, cfdi = (
        rows["entry_lines"], rows["doc_lines"], rows["move_lines"], rows["cfdi"]
    )  # fmt: skip
    for offset in range(0, count, BATCH):
        numbers = range(start + offset, start + min(offset + BATCH, count))
        with transaction.atomic():
            new_entries = {}
            for k, entry in enumerate(entries):  # numbers apart from the services' own
                new_entries[entry.pk] = JournalEntry.objects.bulk_create(
                    [_copies([entry], number=n * len(entries) + k)[0] for n in numbers]
                )
                JournalLine.objects.bulk_create(
                    line_copy
                    for new_entry in new_entries[entry.pk]
                    for line_copy in _copies(entry_lines[entry.pk], entry=new_entry)
                )
            cost_entries = new_entries[movement.journal_entry_id]
            movements = StockMovement.objects.bulk_create(
                _copies([movement], journal_entry=cost_entries[i])[0] for i in range(len(numbers))
            )
            StockMovementLine.objects.bulk_create(
                line for new in movements for line in _copies(move_lines, movement=new)
            )
            documents = SalesDocument.objects.bulk_create(
                _copies([template], number=n, stock_movement=movements[i], idempotency_key=None)[0]
                for i, n in enumerate(numbers)
            )
            SalesDocumentLine.objects.bulk_create(
                line for new in documents for line in _copies(doc_lines, document=new)
            )
            CfdiDocument.objects.bulk_create(
                _copies([cfdi], source_id=new.pk, folio=str(new.number), uuid=str(uuid.uuid4()).upper())[0]
                for new in documents
            )


def grow_to(templates_: list[dict], have: int, want: int) -> int:
    """Clone the templates alternately (contado, crédito) until there are ``want`` invoices."""
    missing = want - have
    half = missing // 2
    clone(templates_[0], 10_000_000 + have, half)
    clone(templates_[1], 20_000_000 + have, missing - half)
    return want


def lists(entity) -> list[tuple[str, str, str]]:
    """(name, user, url) of the main lists."""
    return [
        ("api_invoices", "contador", "/api/sales/invoices/"),
        ("admin_documents", "admin", "/admin/sales/salesdocument/"),
        ("cashier_invoices", "cajero", f"/caja/facturas/{entity.pk}/?period=todas"),
        ("api_entries", "contador", "/api/accounting/entries/"),
        ("admin_entries", "admin", "/admin/accounting/journalentry/"),
        ("api_cfdis", "contador", "/api/cfdi/documents/"),
        ("admin_cfdis", "admin", "/admin/cfdi/cfdidocument/"),
    ]


def read(clients, entity, readings: int) -> dict[str, tuple[int, float]]:
    results = {}
    for name, user, url in lists(entity):
        client = clients[user]
        assert client.get(url).status_code == 200, (name, url)  # warm caches
        times = []
        for _ in range(readings):
            begin = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - begin) * 1000)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        results[name] = (len(captured), statistics.median(times))
    return results


def reference_ms(readings: int) -> float:
    """A bare ORM read of 50 invoices: the floor that list pages are compared with."""
    times = []
    for _ in range(readings):
        begin = time.perf_counter()
        list(SalesDocument.objects.filter(kind="invoice").order_by("-date", "-number")[:50])
        times.append((time.perf_counter() - begin) * 1000)
    return statistics.median(times)


def main():
    small = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
    large = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    readings = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    settings.ALLOWED_HOSTS = ["*"]
    # Pages are rendered in-process without collectstatic: plain static URLs, no manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    recreate_database()
    company, entity, invoices = templates()
    invoices = [snapshot(invoice) for invoice in invoices]
    users = get_user_model().objects
    clients = {}
    for username in ("admin", "contador", "cajero"):
        clients[username] = Client()
        clients[username].force_login(users.get(username=username))
    begin = time.perf_counter()
    have = grow_to(invoices, len(invoices), small)
    print(f"built {have} invoices in {time.perf_counter() - begin:.0f} s")
    at_small, ref_small = read(clients, entity, readings), reference_ms(readings)
    begin = time.perf_counter()
    have = grow_to(invoices, have, large)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built {have} invoices in {time.perf_counter() - begin:.0f} s")
    at_large, ref_large = read(clients, entity, readings), reference_ms(readings)
    print(f"invoices: {small} then {large}; {readings} readings per list (medians)")
    print(f"reference_ms_small: {ref_small:.1f}  reference_ms_large: {ref_large:.1f}")
    equal = True
    for name, _, _ in lists(entity):
        (q_small, ms_small), (q_large, ms_large) = at_small[name], at_large[name]
        equal &= q_small == q_large
        print(
            f"{name}: list_queries_1k: {q_small}  list_queries_20k: {q_large}  "
            f"median_ms_1k: {ms_small:.0f}  median_ms_20k: {ms_large:.0f}"
        )
    print("query counts equal at both sizes" if equal else "QUERY COUNTS GROW WITH ROWS")


if __name__ == "__main__":
    main()
