#!/usr/bin/env python
"""CFDIs built, checked, sealed and stamped (sandbox PAC) per second, one process, 10-concept invoices.

Runs against a throwaway test database (in-memory SQLite unless DATABASE_URL says otherwise) and
prints the time per stage and a final line ``sealed_per_second: N``.

    python bench/seal.py [count]
"""

import os
import sys
import time
from decimal import Decimal as D
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from cfdi import checker, sat, services  # noqa: E402
from cfdi.certificates import signer_for  # noqa: E402
from cfdi.description import Concept, FiscalDocument, Receiver  # noqa: E402
from cfdi.pac import get_pac  # noqa: E402
from cfdi.testing_csd import generate_test_csd  # noqa: E402
from erp.models import Company  # noqa: E402

PASSWORD = "bench-12345"
PROFILES = [
    {"iva_rate": D("16")},
    {"iva_rate": D("16"), "ieps_rate": D("8")},
    {"iva_rate": D("0")},
    {"iva_rate": None, "iva_exempt": True},
    {"iva_rate": D("16"), "retained_iva_rate": D("10.6667"), "retained_isr_rate": D("10")},
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


def main(count: int) -> None:
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(count)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(count: int) -> None:
    company = Company.objects.create(
        rfc="EKU9003173C9", legal_name="ESCUELA KEMPER URGATE", regimen_fiscal="601", postal_code="42501"
    )
    cer, key = generate_test_csd(company.rfc, company.legal_name, PASSWORD)
    csd = services.install_csd(company=company, cer=cer, key=key, password=PASSWORD)
    pac = get_pac()
    services.issue_cfdi(company=company, document=invoice(company, 0), pac=pac)  # warm caches

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

    start = time.perf_counter()
    for n in range(1, count + 1):
        services.issue_cfdi(company=company, document=invoice(company, n), pac=pac)
    elapsed = time.perf_counter() - start
    print(f"issued: {count} in {elapsed:.2f} s ({elapsed / count * 1000:.2f} ms each, with database writes)")
    print(f"sealed_per_second: {count / elapsed:.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
