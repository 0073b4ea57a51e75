"""Two workers stamping the same sealed CFDI at once record one stamp (Postgres, real threads)."""

import threading

import pytest
from django.db import connection

from cfdi import services
from cfdi.models import CfdiDocument, SandboxStamp
from tests.factories import CompanyFactory
from tests.factories_cfdi import install_test_csd, seed_invoice


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_stamping_gives_one_stamp(postgres_only):
    company = CompanyFactory()
    install_test_csd(company)
    sealed = services.seal_cfdi(company=company, document=seed_invoice(company))
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            document = CfdiDocument.objects.get(pk=sealed.pk)
            results.append(services.stamp_cfdi(document=document).uuid)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sealed.refresh_from_db()
    assert results == [sealed.uuid, sealed.uuid]
    assert SandboxStamp.objects.count() == 1
    assert sealed.status == CfdiDocument.Status.STAMPED
