"""Schemas, XSLT and decrypted CSD keys are prepared once per process, never per document."""

import pytest

from cfdi import certificates, sat, services
from tests.factories_cfdi import install_test_csd, seed_invoice

pytestmark = pytest.mark.django_db


def test_schema_and_xslt_compile_once(company):
    install_test_csd(company)
    for folio in range(3):
        services.issue_cfdi(company=company, document=seed_invoice(company, folio=str(folio)))
    assert sat.cfdi_schema.cache_info().currsize == 1
    assert sat.cfdi_schema.cache_info().misses <= 1
    assert sat._xslt.cache_info().currsize <= 2


def test_decrypted_key_is_kept_in_memory(company, monkeypatch):
    csd = install_test_csd(company)
    certificates.forget_signers()
    calls = []
    real = certificates.load_private_key
    monkeypatch.setattr(certificates, "load_private_key", lambda *a, **k: calls.append(1) or real(*a, **k))
    for folio in range(3):
        services.seal_cfdi(company=company, document=seed_invoice(company, folio=str(folio)))
    assert len(calls) == 1
    assert certificates.signer_for(csd) is certificates.signer_for(csd)
