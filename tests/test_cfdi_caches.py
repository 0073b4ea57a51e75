"""Schemas, XSLT and decrypted CSD keys are prepared once per process, never per document."""

import re

import pytest
from django.template.loader import render_to_string
from weasyprint import HTML

from cfdi import certificates, pdf, sat, services
from cfdi.models import CfdiDocument
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


def _without_dates(content: bytes) -> bytes:
    return re.sub(rb"/(CreationDate|ModDate) \(.*?\)|/ID \[.*?\]", b"", content)


def test_pdfs_share_fonts_and_stylesheet_and_print_the_same_document(company):
    """The font configuration and the parsed stylesheet are kept between PDFs; the PDF is the
    one weasyprint prints from the template with nothing kept (byte for byte, but its dates)."""
    install_test_csd(company)
    document = services.issue_cfdi(company=company, document=seed_invoice(company))
    xml = bytes(CfdiDocument.objects.values_list("xml", flat=True).get(pk=document.pk))
    first, second = pdf.render_pdf(xml), pdf.render_pdf(xml)
    assert len(pdf._renderer.stylesheets) == 1
    fresh = HTML(string=render_to_string("cfdi/pdf.html", pdf.context_for(xml))).write_pdf()
    assert _without_dates(first) == _without_dates(second) == _without_dates(fresh)
