#!/usr/bin/env python
"""CFDIs built, checked, sealed and stamped (sandbox PAC) per second, one process, 10-concept invoices;
then PDFs rendered per second in one process (one core), and the time from posting an invoice
through the API to its PDF being stored by a real Celery worker (Redis broker).

Runs against a throwaway test database (a temporary SQLite file unless DATABASE_URL says
otherwise, so the worker process shares it) and prints the time per stage and the lines
``sealed_per_second: N``, ``pdfs_per_second: N`` and ``post_to_pdf_seconds: N``.

Beside the wall figure of sealing it prints the CPU per CFDI of this process and of the Postgres
backend that served it (``sealed_db_cpu_ms``, when the server runs on this machine), and as the
same run's reference ``commit_ms``, one durable commit of that database measured between the
rounds: on a loaded machine the wall time is mostly waiting, and these say for what.

It first prints the micro-figures issue 5 quotes, measured on this machine (RSA-2048 signature
of a cadena original, building and sealing a 10-concept CFDI, validating it against the
compiled cfdv40.xsd as published, compiling that schema, decrypting a CSD key), so that figures
taken on different machines can be compared, and what the project's schema check costs.

    python bench/seal.py [count] [pdf_count] [posts]

The worker part needs Redis (BENCH_BROKER_URL, default redis://127.0.0.1:6379/13); without it
``post_to_pdf_seconds`` prints ``n/a``.
"""

import gc
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from decimal import Decimal as D
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")

import django  # noqa: E402

django.setup()

import datetime  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from weasyprint import HTML  # noqa: E402

from cfdi import checker, pdf, sat, services  # noqa: E402
from cfdi.certificates import load_private_key, signer_for  # noqa: E402
from cfdi.description import Concept, FiscalDocument, Receiver  # noqa: E402
from cfdi.models import CfdiDocument  # noqa: E402
from cfdi.pac import get_pac  # noqa: E402
from cfdi.testing_csd import generate_test_csd  # noqa: E402
from demo.services import load_demo  # noqa: E402
from erp.models import Company  # noqa: E402
from inventory.models import Product, Warehouse  # noqa: E402
from inventory.services import create_stock_movement  # noqa: E402
from sales.models import SalesEntity  # noqa: E402

PASSWORD = "bench-12345"
PROFILES = [
    {"iva_rate": D("16")},
    {"iva_rate": D("16"), "ieps_rate": D("8")},
    {"iva_rate": D("0")},
    {"iva_rate": None, "iva_exempt": True},
    {"iva_rate": D("16"), "retained_iva_rate": D("4")},  # freight: a persona moral issuer has no ISR retained
]


def invoice(company: Company, folio: int) -> FiscalDocument:
    concepts = tuple(
        Concept(
            product_key="01010101",
            unit_key="H87",
            description=f"Artículo {n}",
            quantity=D(n + 1) + D("0.5"),
            unit_price=D("17.333333") * (n + 1),
            discount=D("1.00") if n % 3 == 0 else D("0"),
            **PROFILES[n % len(PROFILES)],
        )
        for n in range(10)
    )
    return FiscalDocument(
        issuer=services.issuer_for(company),
        receiver=Receiver("URE180429TM6", "UNIVERSIDAD ROBOTICA ESPAÑOLA", "86991", "601", "G03"),
        concepts=concepts,
        series="B",
        folio=str(folio),
    )


def main(count: int, pdf_count: int, posts: int) -> None:
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":  # a file, so that the worker process can open it
        connection.settings_dict.setdefault("TEST", {})["NAME"] = os.path.join(
            tempfile.gettempdir(), f"erp-bench-{os.getpid()}.sqlite3"
        )
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print("load_average: {:.2f} {:.2f} {:.2f} (at the start)".format(*os.getloadavg()))
    try:
        run(count)
        run_pdfs(pdf_count)
        run_worker(posts)
        print("load_average: {:.2f} {:.2f} {:.2f} (at the end)".format(*os.getloadavg()))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


class CollectorTime:
    """CPU the cyclic garbage collector takes while installed in ``gc.callbacks``."""

    def __init__(self):
        self.seconds = self._start = 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._start = time.process_time()
        else:
            self.seconds += time.process_time() - self._start


def run_pdfs(count: int) -> None:
    documents = list(
        CfdiDocument.objects.filter(status=CfdiDocument.Status.STAMPED).order_by("pk")[: count + 1]
    )
    services.pdf_bytes(documents[0])  # warm fonts and templates
    elapsed = uncached = cpu = cpu_uncached = collector = collector_uncached = 0.0
    collector_time = CollectorTime()
    gc.callbacks.append(collector_time)
    for document in documents[1:]:  # alternately, so the machine's load weighs on both alike
        start, start_cpu, start_gc = time.perf_counter(), time.process_time(), collector_time.seconds
        services.pdf_bytes(document)
        elapsed += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        collector += collector_time.seconds - start_gc
        start, start_cpu, start_gc = time.perf_counter(), time.process_time(), collector_time.seconds
        xml = bytes(CfdiDocument.objects.values_list("xml", flat=True).get(pk=document.pk))
        context = pdf.context_for(xml)
        HTML(
            string=render_to_string("cfdi/pdf.html", context), url_fetcher=pdf.ImageFetcher(context["images"])
        ).write_pdf()
        uncached += time.perf_counter() - start
        cpu_uncached += time.process_time() - start_cpu
        collector_uncached += collector_time.seconds - start_gc
    gc.callbacks.remove(collector_time)
    done = len(documents) - 1
    print("load_average: {:.2f} {:.2f} {:.2f} (after the PDFs)".format(*os.getloadavg()))
    print(f"pdf_ms: {elapsed / done * 1000:.1f} (10-concept invoices, QR, one process)")
    # Reference of the same run: the same PDFs with nothing kept between them (fonts, stylesheet).
    print(f"pdf_ms_nothing_kept: {uncached / done * 1000:.1f}")
    # CPU time of this process: what a shared machine's load changes least (a busy core still
    # stretches it somewhat: caches and hyper-threads are shared).
    print(f"pdf_cpu_ms: {cpu / done * 1000:.1f} (nothing kept: {cpu_uncached / done * 1000:.1f})")
    # Within it, the cyclic collector's passes: they grow with the process's heap, not the PDF.
    print(f"pdf_gc_ms: {collector / done * 1000:.1f} (nothing kept: {collector_uncached / done * 1000:.1f})")
    print(f"pdfs_per_second: {done / elapsed:.2f}")
    print(f"pdfs_per_cpu_second: {done / cpu:.2f}")


def _broker_ready(url: str) -> bool:
    try:
        import redis

        client = redis.Redis.from_url(url)
        client.ping()
        client.flushdb()
        return True
    except Exception:  # noqa: BLE001 - no Redis: the worker figure is skipped
        return False


def run_worker(posts: int) -> None:
    broker = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
    if posts <= 0 or not _broker_ready(broker):
        print("post_to_pdf_seconds: n/a (no Redis broker)")
        return
    from django.conf import settings

    from erp.celery import app

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="erp-bench-media-")  # shared with the worker

    app.conf.update(task_always_eager=False, broker_url=broker)
    app._pool = None  # forget the eager run's producer pool (kombu keeps one per broker URL)
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    demo = load_demo()
    create_stock_movement(
        company=demo.company,
        warehouse=Warehouse.objects.get(company=demo.company, code="ALM"),
        kind="entry",
        date=datetime.date(2026, 11, 1),
        concept="Inventario inicial",
        lines=[
            {
                "product": Product.objects.get(company=demo.company, code="A"),
                "quantity": 10_000,
                "unit_cost": "5",
            }
        ],
    )
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        database_url = f"sqlite:///{db['NAME']}"
    else:
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        database_url = f"postgres://{db.get('USER') or 'postgres'}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LOG_LEVEL": "WARNING",
    }
    log = open(os.path.join(tempfile.gettempdir(), "erp-bench-worker.log"), "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "erp", "worker", "-Q", "stamping,documents", "-c", "1",
         "-P", "prefork", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "bench@%h"],
        cwd=Path(__file__).resolve().parent.parent, env=env, start_new_session=True,
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        client = APIClient()
        client.force_authenticate(get_user_model().objects.get(username="cajero"))
        entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
        times = []
        for n in range(posts + 1):
            invoice = client.post(
                "/api/sales/invoices/",
                {"entity": entity.pk, "customer": 1, "date": str(datetime.date.today()), "payment": "credit",
                 "lines": [{"product": "A", "quantity": "3"}]},
                format="json",
            ).json()  # fmt: skip
            start = time.perf_counter()
            assert (
                client.post(f"/api/sales/invoices/{invoice['id']}/post/", {}, format="json").status_code
                == 200
            )
            deadline = start + 120
            while not CfdiDocument.objects.filter(source_id=invoice["id"]).exclude(pdf="").exists():
                if time.perf_counter() > deadline:
                    raise SystemExit("the worker did not print the invoice in 120 s")
                time.sleep(0.02)
            if n:  # the first one warms the worker
                times.append(time.perf_counter() - start)
        print(
            f"post_to_pdf_ms: median {statistics.median(times) * 1000:.0f}, max {max(times) * 1000:.0f} ({posts} invoices)"
        )
        print(f"post_to_pdf_seconds: {statistics.median(times):.2f}")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        log.close()


def _ms_per_call(call, number: int) -> float:
    """Median over five rounds of ``number`` calls: the machine may be shared."""
    return statistics.median(timeit.repeat(call, number=number, repeat=5)) / number * 1000


def calibrate(csd, document: FiscalDocument) -> None:
    """The micro-figures of issue 5, measured on this machine (one process, no database)."""
    signer = signer_for(csd)
    comprobante, _ = sat.build_comprobante(document)
    cadena = sat.cadena_original(comprobante.to_xml()).encode("utf-8")
    sealed = sat.parse(sat.seal(comprobante, signer))
    start = time.perf_counter()
    published = sat.full_cfdi_schema()  # cfdv40.xsd as published: what satcfdi compiles per call
    compile_ms = (time.perf_counter() - start) * 1000
    assert published.validate(sealed) and not sat.schema_errors(sealed)
    print(f"rsa2048_sign_ms: {_ms_per_call(lambda: signer.sign_sha256(cadena), 200):.2f}")
    print(
        f"build_and_seal_ms: {_ms_per_call(lambda: sat.seal(sat.build_comprobante(document)[0], signer), 50):.2f}"
    )
    print(
        f"xsd_validate_ms: {_ms_per_call(lambda: published.validate(sealed), 50):.2f} (compiled cfdv40.xsd)"
    )
    print(f"xsd_compile_ms: {compile_ms:.0f}")
    print(
        f"schema_check_ms: {_ms_per_call(lambda: sat.schema_errors(sealed), 50):.2f} "
        "(the project's: large catalogs in sets)"
    )
    key_ms = _ms_per_call(lambda: load_private_key(csd.private_key, csd.password), 3)
    print(f"csd_key_decrypt_ms: {key_ms:.1f} (once per process)")


def _backend_cpu_seconds():
    """A function that answers the CPU seconds used so far by this connection's Postgres backend,
    read from /proc (the server on this machine); one that answers None when it cannot."""
    if connection.vendor != "postgresql":
        return lambda: None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")

    def seconds():
        try:  # utime and stime, the 14th and 15th fields, after the parenthesised command name
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a server on another machine
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return seconds


def run(count: int) -> None:
    company = Company.objects.create(
        rfc="EKU9003173C9", legal_name="ESCUELA KEMPER URGATE", regimen_fiscal="601", postal_code="42501"
    )
    cer, key = generate_test_csd(company.rfc, company.legal_name, PASSWORD)
    csd = services.install_csd(company=company, cer=cer, key=key, password=PASSWORD)
    pac = get_pac()
    services.issue_cfdi(company=company, document=invoice(company, 0), pac=pac)  # warm caches
    calibrate(csd, invoice(company, 0))
    with CaptureQueriesContext(connection) as queries:
        services.issue_cfdi(company=company, document=invoice(company, 20_000), pac=pac)
    verbs = " ".join(query["sql"].split()[0] for query in queries.captured_queries)
    print(f"queries_per_document: {len(queries.captured_queries)} ({verbs})")

    # Stage timings on a sample (no database): build, check, seal, sandbox stamp.
    signer = signer_for(csd)
    stages = {"build": 0.0, "check": 0.0, "seal": 0.0}
    sample = 50
    for n in range(sample):
        t0 = time.perf_counter()
        comprobante, _ = sat.build_comprobante(invoice(company, 10_000 + n))
        t1 = time.perf_counter()
        assert not checker.check(comprobante.to_xml(), now=timezone.now())
        t2 = time.perf_counter()
        sat.seal(comprobante, signer)
        t3 = time.perf_counter()
        stages["build"] += t1 - t0
        stages["check"] += t2 - t1
        stages["seal"] += t3 - t2
    for name, seconds in stages.items():
        print(f"{name}_ms: {seconds / sample * 1000:.2f}")

    # In rounds, each followed by the reference: commits alone, so the load weighs on both alike.
    elapsed = cpu = db_cpu = commits = 0.0
    done, rounds = 0, 10
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_commit (n integer)")
    backend_cpu = _backend_cpu_seconds()
    while done < count:
        batch = range(done + 1, done + 1 + min(count - done, -(-count // rounds)))
        start, start_cpu, start_db = time.perf_counter(), time.process_time(), backend_cpu()
        for n in batch:
            services.issue_cfdi(company=company, document=invoice(company, n), pac=pac)
        elapsed += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        db_cpu = None if start_db is None else db_cpu + backend_cpu() - start_db
        done += len(batch)
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for n in batch:
                cursor.execute("INSERT INTO bench_commit VALUES (%s)", [n])
        commits += time.perf_counter() - start
    print(f"issued: {count} in {elapsed:.2f} s ({elapsed / count * 1000:.2f} ms each, with database writes)")
    # CPU time: what the machine's load moves least. This process's, and the Postgres backend's
    # that served it (the wall time above includes both, and the waits for the disk).
    print(f"sealed_cpu_ms: {cpu / count * 1000:.2f} (this process's CPU per CFDI)")
    if db_cpu is not None:
        print(f"sealed_db_cpu_ms: {db_cpu / count * 1000:.2f} (its Postgres backend's CPU per CFDI)")
    # Reference of the same run: one durable commit of this database (a one-row INSERT alone).
    print(f"commit_ms: {commits / count * 1000:.2f} (a one-row INSERT committed alone, between the rounds)")
    print(f"sealed_per_second: {count / elapsed:.0f}")
    print(f"sealed_per_cpu_second: {count / cpu:.0f}")
    if db_cpu is not None:
        print(f"sealed_per_cpu_second_with_db: {count / (cpu + db_cpu):.0f}")


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:]]
    main(*(arguments + [300, 40, 10][len(arguments) :]))
