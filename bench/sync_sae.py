#!/usr/bin/env python
"""Aspel SAE sync of N products in 3 warehouses and N customers on Postgres, twice, with peak
memory, against a SAE database on the local Firebird server (127.0.0.1:3050).

Runs through the engine and the connector exactly as a worker runs them (pages of 1,000):

1. first run: every line, product (with its stock in 3 warehouses, as audited entry movements;
   warehouse 1 linked to accounting, so with its cost póliza) and customer is new;
2. second run: 10% of the products (description and stock in warehouse 1) and 10% of the
   customers changed at SAE; SAE is read whole again (it keeps no change log for deletions).

3. the products alone (no stock) into another company, to show what the catalog costs apart
   from its 3 × N stock levels and movement lines.

The time of each phase is the time of its pages (read from Firebird + written here). The
machine's own reference, measured in the same run: the same N products and N customers written
with bare ``bulk_create`` (no validation, no source, no events) — ``bare_bulk_create_per_second``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_bench python bench/sync_sae.py [N]

The database named by DATABASE_URL is dropped and recreated: never point it at real data.
"""

import os
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/erp_bench")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "S0LpfXqK1m0rCwE9oBvD0Lm6Tq1c2yQn2Vh3qGqkP9s=")

import django  # noqa: E402

django.setup()


from accounting.models import Account, AccountingVariable  # noqa: E402
from accounting.variables import Variable  # noqa: E402
from bench.scratch import recreate_database, rss_mb  # noqa: E402
from erp.models import Company  # noqa: E402
from erp.rfc import check_digit  # noqa: E402
from erp.services import ensure_currencies  # noqa: E402
from inventory.models import Product, StockMovement, Warehouse  # noqa: E402
from sales.models import Customer, SalesEntity  # noqa: E402
from sales.services import save_sales_entity  # noqa: E402
from sync.connectors import sae_layout as L  # noqa: E402
from sync.connectors.sae import SaeConnector  # noqa: E402
from sync.connectors.sae_source import SaeDatabase, prepare_folder, server_listening, sysdba_password  # noqa: E402
from sync.engine import execute_run  # noqa: E402
from sync.models import Connection, Run  # noqa: E402
from sync.services import save_connection  # noqa: E402

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALNUM = "0123456789" + LETTERS
POSTAL_CODES = ["06000", "01160", "36257", "62661", "42501"]


def rfc(i: int) -> str:
    """A valid, unique RFC of a persona moral (its check digit computed) for each i < 22,781,376."""
    a, b, c = (i // 1296) // 676, (i // 1296) // 26 % 26, (i // 1296) % 26
    body = f"{LETTERS[a]}{LETTERS[b]}{LETTERS[c]}010101{ALNUM[i % 1296 // 36]}{ALNUM[i % 36]}"
    return body + check_digit(body + "0")


# --- per-phase timing of the connector's pages --------------------------------------------------
PHASE_SECONDS: dict[str, float] = defaultdict(float)
SAMPLES: list[tuple[int, float]] = []
_read, _write = SaeConnector.read_page, SaeConnector.write_page


def timed_read(self, cursor):
    started = time.perf_counter()
    page = _read(self, cursor)
    PHASE_SECONDS[page.records[0]["phase"]] += time.perf_counter() - started
    return page


def timed_write(self, page):
    started = time.perf_counter()
    outcome = _write(self, page)
    payload = page.records[0]
    PHASE_SECONDS[payload["phase"]] += time.perf_counter() - started
    done = (SAMPLES[-1][0] if SAMPLES else 0) + len(payload.get("products", payload.get("customers", [])))
    SAMPLES.append((done, rss_mb()))
    return outcome


SaeConnector.read_page, SaeConnector.write_page = timed_read, timed_write


# --- SAE ----------------------------------------------------------------------------------------


def product_row(i: int, changed: bool = False) -> dict:
    return {
        "CVE_ART": f"P{i:07d}", "DESCR": f"PRODUCTO {i}{' NUEVO' if changed else ''}",
        "LIN_PROD": f"L{i % 20:02d}", "UNI_MED": "PZA", "TIPO_ELE": "P", "STATUS": "A",
        "COSTO_PROM": 10 + i % 50, "CVE_ESQIMPU": 1 + i % 3, "CVE_PRODSERV": "01010101", "CVE_UNIDAD": "H87",
    }  # fmt: skip


def customer_row(i: int, changed: bool = False) -> dict:
    return {
        "CLAVE": str(i + 1).rjust(10), "STATUS": "A", "NOMBRE": f"CLIENTE {i} SA DE CV", "RFC": rfc(i),
        "CALLE": "AV. JUAREZ", "NUMEXT": str(i % 900 + 1), "NUMINT": "", "COLONIA": "CENTRO",
        "MUNICIPIO": "CUAUHTEMOC", "CODIGO": "01160" if changed else POSTAL_CODES[i % len(POSTAL_CODES)],
        "TELEFONO": "", "EMAILPRED": f"c{i}@example.mx", "DIASCRED": 30, "DESCUENTO": 0,
        "REG_FISC": "601", "USO_CFDI": "G03", "FORMADEPAGOSAT": "03",
    }  # fmt: skip


def build_sae(count: int) -> SaeDatabase:
    password = sysdba_password()
    if password is None or not server_listening():
        sys.exit("No hay servidor Firebird en 127.0.0.1:3050 (apt-get install firebird3.0-server).")
    folder = prepare_folder(Path("/tmp/erp-sae-bench"))
    db = SaeDatabase(folder / "bench.fdb", password=password).create()
    db.insert(L.LINES, [{"CVE_LIN": f"L{i:02d}", "DESC_LIN": f"Línea {i}", "STATUS": "A"} for i in range(20)])
    db.insert(
        L.TAX_SCHEMES,
        [
            {"CVE_ESQIMPU": n, "DESCRIPESQ": name, "IMPUESTO1": ieps, "IMP1APLICA": 0, "IMPUESTO2": 0,
             "IMP2APLICA": 0, "IMPUESTO3": 0, "IMP3APLICA": 0, "IMPUESTO4": iva, "IMP4APLICA": applies, "STATUS": "A"}
            for n, name, ieps, iva, applies in [(1, "IVA 16", 0, 16, 0), (2, "Tasa 0", 0, 0, 0), (3, "IEPS", 8, 16, 1)]
        ],
    )  # fmt: skip
    db.insert(L.WAREHOUSES, [{"CVE_ALM": n, "DESCR": f"Almacén {n}", "STATUS": "A"} for n in (1, 2, 3)])
    for start in range(0, count, 10_000):
        chunk = range(start, min(start + 10_000, count))
        db.insert(L.PRODUCTS, [product_row(i) for i in chunk])
        db.insert(
            L.STOCK,
            [{"CVE_ART": f"P{i:07d}", "CVE_ALM": n, "STATUS": "A", "EXIST": 1 + (i + n) % 40} for i in chunk for n in (1, 2, 3)],
        )  # fmt: skip
        db.insert(L.CUSTOMERS, [customer_row(i) for i in chunk])
    return db


def change_sae(db: SaeDatabase, count: int) -> int:
    changed = list(range(0, count, 10))
    table = L.table
    db.execute(
        f"UPDATE {table(L.PRODUCTS, 1)} SET DESCR = ? WHERE CVE_ART = ?",
        [[product_row(i, changed=True)["DESCR"], f"P{i:07d}"] for i in changed],
    )
    db.execute(
        f"UPDATE {table(L.STOCK, 1)} SET EXIST = EXIST + 5 WHERE CVE_ART = ? AND CVE_ALM = 1",
        [[f"P{i:07d}"] for i in changed],
    )
    db.execute(
        f"UPDATE {table(L.CUSTOMERS, 1)} SET CODIGO = ? WHERE CLAVE = ?",
        [
            ["01160" if customer_row(i)["CODIGO"] != "01160" else "06000", str(i + 1).rjust(10)]
            for i in changed
        ],
    )
    return len(changed)


# --- ours ---------------------------------------------------------------------------------------


def setup() -> Company:
    ensure_currencies()
    company = Company.objects.create(
        rfc="EKU9003173C9", legal_name="ESCUELA KEMPER URGATE", regimen_fiscal="601", postal_code="42501",
        stock_change_from_sync=True,
    )  # fmt: skip
    inventory = Account.objects.create(
        company=company, code="115", name="Inventario", nature="D", sat_grouping_code="115.01", postable=True
    )
    cost = Account.objects.create(
        company=company,
        code="501",
        name="Costo de ventas",
        nature="D",
        sat_grouping_code="501.01",
        postable=True,
    )
    AccountingVariable.objects.create(company=company, name=Variable.COST_OF_SALES, account=cost)
    Warehouse.objects.create(
        company=company, code="1", short_name="Matriz", linked_to_accounting=True, inventory_account=inventory
    )
    for n in (2, 3):
        Warehouse.objects.create(
            company=company, code=str(n), short_name=f"Almacén {n}", linked_to_accounting=False
        )
    save_sales_entity(
        entity=SalesEntity(company=company, code="SAE", name="Clientes de SAE", no_stock_movements=True)
    )
    return company


def timed_run(conn: Connection) -> tuple[Run, dict[str, float]]:
    PHASE_SECONDS.clear()
    SAMPLES.clear()
    run = Run.objects.create(company=conn.company, connection=conn, trigger="manual")
    started = time.perf_counter()
    run = execute_run(run_id=run.pk)
    seconds = dict(PHASE_SECONDS)
    seconds["total"] = time.perf_counter() - started
    return run, seconds


def bare_reference(company: Company, count: int) -> float:
    other = save_sales_entity(
        entity=SalesEntity(company=company, code="BARE", name="Referencia", no_stock_movements=True)
    )
    started = time.perf_counter()
    for start in range(0, count, 1000):
        Product.objects.bulk_create(
            [
                Product(company=company, code=f"R{i:07d}", description=f"PRODUCTO {i}", unit="PZA",
                        sat_product_key="01010101", sat_unit_key="H87")
                for i in range(start, min(start + 1000, count))
            ]
        )  # fmt: skip
        Customer.objects.bulk_create(
            [
                Customer(company=company, entity=other, number=i + 1, rfc=rfc(i), name=f"CLIENTE {i} SA DE CV",
                         regimen_fiscal="601", postal_code="06000", uso_cfdi="G03", forma_pago="03")
                for i in range(start, min(start + 1000, count))
            ]
        )  # fmt: skip
    return 2 * count / (time.perf_counter() - started)


def main(count: int) -> None:
    recreate_database()
    company = setup()
    started = time.perf_counter()
    sae = build_sae(count)
    print(f"products: {count} (stock in 3 warehouses: {3 * count} rows), customers: {count}")
    print(f"sae_database_built_in_s: {time.perf_counter() - started:.0f}")
    conn = save_connection(
        connection=Connection(
            company=company, kind="sae", name="SAE", enabled=False,
            options=sae.options(entity="SAE", page_size=1000),
        ),
        credentials=sae.password,
    )  # fmt: skip
    first, s1 = timed_run(conn)
    assert first.result == "success", (first.result, first.message)
    rss_at_10k = next((rss for done, rss in SAMPLES if done >= min(10_000, count)), 0.0)
    rss_end_first = SAMPLES[-1][1]
    movements = StockMovement.objects.filter(company=company).count()
    changed = change_sae(sae, count)
    second, s2 = timed_run(conn)
    assert second.result == "success", (second.result, second.message)
    peak = rss_mb("VmHWM")
    # The same products without their stock, in another company: what the catalog alone costs.
    other = Company.objects.create(
        rfc="AAA010101AAA", legal_name="EMPRESA DE CATALOGO", regimen_fiscal="601", postal_code="06000"
    )
    catalog_conn = save_connection(
        connection=Connection(
            company=other, kind="sae", name="SAE catálogo", enabled=False,
            options=sae.options(page_size=1000, import_customers=False, sync_stock=False),
        ),
        credentials=sae.password,
    )  # fmt: skip
    catalog, s3 = timed_run(catalog_conn)
    assert catalog.result == "success", (catalog.result, catalog.message)
    bare = bare_reference(company, count)
    products_s1 = s1["catalogs"] + s1["products"]
    customers_s1 = s1["customers"] + s1.get("deleted_customers", 0)
    products_s2 = s2["catalogs"] + s2["products"]
    customers_s2 = s2["customers"] + s2.get("deleted_customers", 0)
    print(f"bare_bulk_create_per_second: {bare:.0f} (the machine's reference: no rules, no source, no stock)")
    print(
        f"products_per_second_first: {count / products_s1:.0f} ({products_s1:.1f} s; with their stock in 3 "
        f"warehouses as {movements} audited entry movements)"
    )
    print(f"customers_per_second_first: {count / customers_s1:.0f} ({customers_s1:.1f} s)")
    catalog_s = s3["catalogs"] + s3["products"]
    print(
        f"products_per_second_first_without_stock: {count / catalog_s:.0f} ({catalog_s:.1f} s; the catalog alone)"
    )
    print(f"first_run_total_s: {s1['total']:.1f} ({first.created} created, {first.updated} stock lines)")
    print(
        f"products_per_second_second: {count / products_s2:.0f} ({products_s2:.1f} s; {count} read, "
        f"{changed} changed and their stock adjusted)"
    )
    print(
        f"customers_per_second_second: {count / customers_s2:.0f} ({customers_s2:.1f} s; {changed} changed)"
    )
    print(f"second_run_total_s: {s2['total']:.1f} ({second.updated} updated, {second.unchanged} unchanged)")
    print(f"rss_mb_at_10000: {rss_at_10k:.0f}")
    print(f"rss_mb_at_end_of_first_run: {rss_end_first:.0f}")
    print(f"peak_rss_mb: {peak:.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
