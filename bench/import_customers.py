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
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/erp_bench")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "S0LpfXqK1m0rCwE9oBvD0Lm6Tq1c2yQn2Vh3qGqkP9s=")

import django  # noqa: E402

django.setup()


from bench.scratch import recreate_database, rss_mb  # noqa: E402
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


def column(index: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[index]


def write_xlsx(path: Path, count: int) -> None:
    """The workbook as Excel and LibreOffice save it: text in the shared-strings table (openpyxl's
    write-only mode writes inline strings instead, which no spreadsheet program produces and
    which openpyxl reads several times slower). Streamed, so generating it costs no memory."""
    strings: dict[str, int] = {}

    def cell(ref: str, value) -> str:
        if isinstance(value, int):
            return f'<c r="{ref}"><v>{value}</v></c>'
        index = strings.setdefault(value, len(strings))
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
                f'<dimension ref="A1:{column(len(HEADERS) - 1)}{count + 1}"/><sheetData>'.encode()
            )
            sheet.write(_row(1, HEADERS, cell))
            for n in range(count):
                sheet.write(_row(n + 2, values(n), cell))
            sheet.write(b"</sheetData></worksheet>")
        with book.open("xl/sharedStrings.xml", "w") as shared:
            shared.write(
                f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(strings)}" '
                f'uniqueCount="{len(strings)}">'.encode()
            )
            for text in strings:
                shared.write(f"<si><t>{escape(text)}</t></si>".encode())
            shared.write(b"</sst>")


def _row(number: int, row: list, cell) -> bytes:
    cells = "".join(cell(f"{column(i)}{number}", value) for i, value in enumerate(row))
    return f'<row r="{number}">{cells}</row>'.encode()


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
    '<sheets><sheet name="Clientes" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)


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
