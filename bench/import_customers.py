#!/usr/bin/env python
"""Customer file import (issue 13): a 100,000-row XLSX on Postgres, dry run then apply.

Through the services and the engine exactly as the screen and the API run them:

1. dry run ("Vista previa"): the file streamed with openpyxl read-only, each row validated as the
   customer form validates it, the preview stored in pages — ``rows_per_second_dry_run``;
2. apply: the stored preview written by a run of the engine in pages through
   ``save_customers_batch`` — ``rows_per_second_apply``;
3. ``peak_rss_mb`` (VmHWM of the process), and the RSS after 10% and at the end of the dry run
   (memory that does not grow with the file keeps those close).

The machine's own reference, measured in the same run: the same rows written with bare
``bulk_create`` (no file, no validation, no preview) — ``bare_bulk_create_per_second``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_bench python bench/import_customers.py [count]

The database named by DATABASE_URL is dropped and recreated: never point it at real data.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/erp_bench")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "S0LpfXqK1m0rCwE9oBvD0Lm6Tq1c2yQn2Vh3qGqkP9s=")

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from erp.models import Company  # noqa: E402
from erp.rfc import check_digit  # noqa: E402
from erp.services import ensure_currencies  # noqa: E402
from sales.models import Customer, SalesEntity  # noqa: E402
from sales.services import save_sales_entity  # noqa: E402
from sync.connectors import customer_file  # noqa: E402
from sync.models import Connection, Run  # noqa: E402
from sync.services import apply_customer_import, preview_customer_file, save_connection  # noqa: E402

HEADERS = ["Clave", "RFC", "Razón social", "Régimen fiscal", "Código postal", "Uso CFDI", "Forma de pago",
           "Correo electrónico", "Teléfonos", "Días de crédito"]  # fmt: skip
POSTAL_CODES = ["06000", "01160", "36257", "62661", "42501"]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def rfc(n: int) -> str:
    letters = "".join(LETTERS[(n // 26**i) % 26] for i in range(3))
    body = f"{letters}01{(n // 28) % 12 + 1:02d}{n % 28 + 1:02d}{n // 17576 % 100:02d}"
    return body + check_digit(body + "0")


def values(n: int) -> list:
    return [f"C{n:06d}", rfc(n), f"CLIENTE {n} SA DE CV", "601", POSTAL_CODES[n % 5], "G03", "03",
            f"c{n}@example.mx", "8181234567", 30]  # fmt: skip


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def recreate_database():
    if connection.vendor != "postgresql":
        sys.exit("bench/import_customers.py measures Postgres: set DATABASE_URL to a scratch database.")
    name = connection.settings_dict["NAME"]
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)


def write_xlsx(path: Path, count: int) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Clientes")
    sheet.append(HEADERS)
    for n in range(count):
        sheet.append(values(n))
    book.save(path)


SAMPLES: list[tuple[int, float]] = []
_preview_page = customer_file._preview_page


def measured_preview_page(plan, preview, batch, counts):
    _preview_page(plan, preview, batch, counts)
    SAMPLES.append((counts["rows_read"], rss_mb()))


customer_file._preview_page = measured_preview_page


def bare_reference(company: Company, count: int) -> float:
    other = save_sales_entity(
        entity=SalesEntity(company=company, code="BARE", name="Referencia", no_stock_movements=True)
    )
    started = time.perf_counter()
    batch = []
    for n in range(count):
        v = values(n)
        batch.append(
            Customer(
                company=company, entity=other, number=n + 1, external_key=f"B{n:06d}", rfc=v[1], name=v[2],
                regimen_fiscal="601", postal_code=v[4], uso_cfdi="G03", forma_pago="03", email=v[7],
                phones=v[8], credit_days=30,
            )
        )  # fmt: skip
        if len(batch) == 1000:
            Customer.objects.bulk_create(batch)
            batch = []
    Customer.objects.bulk_create(batch)
    return count / (time.perf_counter() - started)


def main(count: int) -> None:
    recreate_database()
    ensure_currencies()
    company = Company.objects.create(
        rfc="EKU9003173C9", legal_name="ESCUELA KEMPER URGATE", regimen_fiscal="601", postal_code="42501"
    )
    save_sales_entity(
        entity=SalesEntity(company=company, code="ARCH", name="Archivo", no_stock_movements=True)
    )
    conn = save_connection(
        connection=Connection(
            company=company, kind="customer_file", name="Archivo", enabled=False,
            options={"entity": "ARCH", "match_key": "clave", "page_size": 1000},
        )
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clientes.xlsx"
        write_xlsx(path, count)
        size = path.stat().st_size
        print(f"rows: {count}")
        print(f"xlsx_mb: {size / 1024 / 1024:.1f}")
        with path.open("rb") as data:
            started = time.perf_counter()
            preview = preview_customer_file(
                connection=conn, name=path.name, data=data, size=size, source="api"
            )
            dry_seconds = time.perf_counter() - started
    assert (preview.to_create, preview.errors) == (count, 0), preview.message
    rss_10 = next((rss for done, rss in SAMPLES if done >= count // 10), 0.0)
    rss_end = SAMPLES[-1][1]
    started = time.perf_counter()
    run = apply_customer_import(customer_import=preview, trigger=Run.Trigger.API)  # eager: runs on commit
    apply_seconds = time.perf_counter() - started
    run.refresh_from_db()
    assert (run.result, run.created) == ("success", count), (run.result, run.message)
    peak = rss_mb("VmHWM")
    reference = bare_reference(company, count)
    print(f"rows_per_second_dry_run: {count / dry_seconds:.0f}")
    print(f"rows_per_second_apply: {count / apply_seconds:.0f}")
    print(f"peak_rss_mb: {peak:.0f}")
    print(f"rss_mb_after_10pct_of_dry_run: {rss_10:.0f}")
    print(f"rss_mb_end_of_dry_run: {rss_end:.0f}")
    print(f"bare_bulk_create_per_second: {reference:.0f}  (reference: same rows, no file, no validation)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
