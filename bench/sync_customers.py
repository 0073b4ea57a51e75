#!/usr/bin/env python
"""CONTPAQi QR customer sync of 100,000 receivers on Postgres, twice, with peak memory.

The QR stand-in (sync/connectors/qr_source.py, the contract in docs/sync-contpaqi-qr.md) runs in
a separate process on loopback, so the memory measured is the sync's alone. Runs, through the
engine and the connector exactly as a worker runs them (pages of 1,000, validated as the
customer form validates, written in batches):

1. first run: all 100,000 receivers are new;
2. second run: 10% of the receivers changed at QR since the first; read from the cursor (only
   what changed, as the schedule runs it);
3. full re-read: the cursor rewound, all 100,000 read again; the second run already applied the
   10%, so all are unchanged: what reading and comparing the whole source costs (nothing is
   validated or written for an unchanged receiver).

``customers_per_second_second`` is the changed receivers over the second run's time (each one
read, compared, validated, written and given its event); ``rss_mb_at_10000`` and
``peak_rss_mb`` show memory does not grow with the source.

The machine's own reference: the same 100,000 customers written with bare ``bulk_create`` (no
validation, no source, no events) — ``bare_bulk_create_per_second``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_bench python bench/sync_customers.py [count]

The database named by DATABASE_URL is dropped and recreated: never point it at real data.
"""

import multiprocessing
import os
import sys
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


from bench.scratch import recreate_database, rss_mb  # noqa: E402
from erp.models import Company  # noqa: E402
from erp.rfc import check_digit  # noqa: E402
from erp.services import ensure_currencies  # noqa: E402
from sales.models import Customer, SalesEntity  # noqa: E402
from sales.services import save_sales_entity  # noqa: E402
from sync.connectors.qr import QrCustomersConnector  # noqa: E402
from sync.connectors.qr_source import QrSource, QrSourceServer  # noqa: E402
from sync.engine import execute_run  # noqa: E402
from sync.models import Connection, Run  # noqa: E402
from sync.services import save_connection  # noqa: E402

TOKEN = "bench-token"
POSTAL_CODES = ["06000", "01160", "36257", "62661", "42501"]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
HOMOCLAVE = "0123456789" + LETTERS


def rfc(i: int) -> str:
    """A structurally valid, unique RFC of a persona moral for each i < 17,576,000."""
    a, b, c = (i // 1000) // 676, (i // 1000) // 26 % 26, (i // 1000) % 26
    h = i % 1000  # the homoclave's two characters in base 36, then the check digit SAT computes
    body = f"{LETTERS[a]}{LETTERS[b]}{LETTERS[c]}010101{HOMOCLAVE[h // 36]}{HOMOCLAVE[h % 36]}"
    return body + check_digit(body + "0")


def receiver(i: int, changed: bool = False) -> dict:
    return {
        "rfc_receptor": rfc(i),
        "razon_social": f"CLIENTE {i} SA DE CV",
        "regimen_fiscal": "601",
        "correo": f"c{i}@{'nuevo.' if changed else ''}example.mx",
        "codigo_postal": POSTAL_CODES[i % len(POSTAL_CODES)],
        "uso_cfdi": "G03",
        "forma_pago": "03",
    }


def serve(count: int, changed_every: int, ready, stop) -> None:
    source = QrSource((receiver(i) for i in range(count)), token=TOKEN)
    if changed_every:
        for i in range(0, count, changed_every):
            source.put(receiver(i, changed=True))
    with QrSourceServer(source) as server:
        ready.send(server.url)
        stop.wait()


class Source:
    def __init__(self, count: int, changed_every: int = 0):
        self.ready, child = multiprocessing.Pipe()
        self.stop = multiprocessing.Event()
        self.process = multiprocessing.Process(target=serve, args=(count, changed_every, child, self.stop))

    def __enter__(self) -> str:
        self.process.start()
        return self.ready.recv()

    def __exit__(self, *exc):
        self.stop.set()
        self.process.join(30)


SAMPLES: list[tuple[int, float]] = []
_write_page = QrCustomersConnector.write_page


def measured_write_page(self, page):
    outcome = _write_page(self, page)
    done = (SAMPLES[-1][0] if SAMPLES else 0) + len(page.records)
    SAMPLES.append((done, rss_mb()))
    return outcome


QrCustomersConnector.write_page = measured_write_page


def setup() -> tuple[Company, SalesEntity]:
    ensure_currencies()
    company = Company.objects.create(
        rfc="EKU9003173C9", legal_name="ESCUELA KEMPER URGATE", regimen_fiscal="601", postal_code="42501"
    )
    entity = save_sales_entity(
        entity=SalesEntity(company=company, code="QR", name="Clientes de QR", no_stock_movements=True)
    )
    return company, entity


def timed_run(connection_row: Connection) -> tuple[Run, float]:
    SAMPLES.clear()
    run = Run.objects.create(company=connection_row.company, connection=connection_row, trigger="manual")
    started = time.perf_counter()
    run = execute_run(run_id=run.pk)
    return run, time.perf_counter() - started


def bare_reference(company: Company, entity: SalesEntity, count: int) -> float:
    other = save_sales_entity(
        entity=SalesEntity(company=company, code="BARE", name="Referencia", no_stock_movements=True)
    )
    started = time.perf_counter()
    batch = []
    for i in range(count):
        values = receiver(i)
        batch.append(
            Customer(
                company=company, entity=other, number=i + 1, rfc=values["rfc_receptor"],
                name=values["razon_social"], regimen_fiscal="601", email=values["correo"],
                postal_code=values["codigo_postal"], uso_cfdi="G03", forma_pago="03",
            )
        )  # fmt: skip
        if len(batch) == 1000:
            Customer.objects.bulk_create(batch)
            batch = []
    Customer.objects.bulk_create(batch)
    return count / (time.perf_counter() - started)


def main(count: int) -> None:
    recreate_database()
    company, entity = setup()
    print(f"customers: {count}")
    with Source(count) as url:
        conn = save_connection(
            connection=Connection(
                company=company, kind="qr_customers", name="QR", enabled=False,
                options={"base_url": url, "entity": "QR", "page_size": 1000, "timeout_seconds": 60},
            ),
            credentials=TOKEN,
        )  # fmt: skip
        first, first_seconds = timed_run(conn)
    rss_at_10k = next((rss for done, rss in SAMPLES if done >= min(10_000, count)), 0.0)
    rss_end_first = SAMPLES[-1][1]
    assert (first.result, first.created) == ("success", count), (first.result, first.message)

    with Source(count, changed_every=10) as url:
        conn.options = {**conn.options, "base_url": url}
        save_connection(connection=conn)
        second, second_seconds = timed_run(conn)
        assert (second.result, second.updated) == ("success", count // 10), (second.result, second.message)
        Connection.objects.filter(pk=conn.pk).update(cursor="")
        full, full_seconds = timed_run(conn)
        assert (full.unchanged, full.updated) == (count, 0), (full.unchanged, full.updated)

    peak = rss_mb("VmHWM")  # the sync's peak, before the reference builds its own rows
    bare = bare_reference(company, entity, count)
    print(f"bare_bulk_create_per_second: {bare:.0f} (the machine's reference: no rules, no source)")
    print(
        f"customers_per_second_first: {count / first_seconds:.0f} ({first_seconds:.1f} s, {first.created} created)"
    )
    print(
        f"customers_per_second_second: {second.updated / second_seconds:.0f} "
        f"({second_seconds:.1f} s, {second.updated} changed read from the cursor and updated)"
    )
    print(
        f"customers_per_second_full_reread: {count / full_seconds:.0f} "
        f"({full_seconds:.1f} s, {full.unchanged} read again, all unchanged)"
    )
    print(f"first_to_bare_ratio: {count / first_seconds / bare:.2f}")
    print(f"rss_mb_at_10000: {rss_at_10k:.0f}")
    print(f"rss_mb_at_end_of_first_run: {rss_end_first:.0f}")
    print(f"peak_rss_mb: {peak:.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
