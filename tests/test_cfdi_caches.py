"""Schemas, XSLT and decrypted CSD keys are prepared once per process, never per document."""

import gc
import re
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from satcfdi.cfdi import CFDI
from weasyprint import HTML

from cfdi import certificates, pdf, sat, services
from cfdi.description import DocumentTax, PaidDocument, PaymentComplement, PaymentReceived
from cfdi.models import CfdiDocument
from erp.models import Currency, ExchangeRate
from tests.factories_cfdi import CUSTOMER, concept, description, install_test_csd, seed_invoice

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
    context = pdf.context_for(xml)
    fresh = HTML(
        string=render_to_string("cfdi/pdf.html", context), url_fetcher=pdf.ImageFetcher(context["images"])
    ).write_pdf()
    assert _without_dates(first) == _without_dates(second) == _without_dates(fresh)


def _stamped_xml(company) -> bytes:
    install_test_csd(company)
    document = services.issue_cfdi(company=company, document=seed_invoice(company))
    return bytes(CfdiDocument.objects.values_list("xml", flat=True).get(pk=document.pk))


def test_a_pdf_is_laid_out_without_collector_passes(company):
    """The collector does not scan the heap while a PDF is laid out: one young-generation
    pass at the end, and it is on again afterwards."""
    xml = _stamped_xml(company)
    pdf.render_pdf(xml)
    generations = []

    def record(phase, info):
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(record)
    try:
        pdf.render_pdf(xml)
    finally:
        gc.callbacks.remove(record)
    assert generations == [0]
    assert gc.isenabled()


def test_the_collector_is_left_as_it_was_found(company):
    xml = _stamped_xml(company)
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the XML parser raises
        pdf.render_pdf(b"<no-es-un-cfdi")
    assert gc.isenabled()
    gc.disable()
    try:
        pdf.render_pdf(xml)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_renders_hand_the_collector_back_when_the_last_ends():
    """Threads rendering at once: the first to end must not switch the collector on under the
    other, nor the last leave it off."""
    paused = pdf._CollectorPause()
    first, second = paused(), paused()
    try:
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        assert not gc.isenabled()
        second.__exit__(None, None, None)
        assert gc.isenabled()
    finally:
        gc.enable()


def test_the_verification_url_is_satcfdis_from_the_whole_xml(company):
    """The QR's URL is built from the few values it carries, by satcfdi's rule: the same URL
    satcfdi gives reading the whole stamped XML, for an invoice in dollars and a payment."""
    install_test_csd(company)
    ExchangeRate.objects.create(
        company=company, currency=Currency.objects.get(code="USD"), date=timezone.localdate(), rate=D("17.5")
    )
    dollars = description(company, concept(3, "333.33"), currency="USD", exchange_rate=D("17.5"))
    paid = PaidDocument(
        "11111111-2222-3333-4444-555555555555", "MXN", 1, D("1160.00"), D("500.00"), D("1160.00"),
        (DocumentTax("002", D("1000.00"), D("160.00"), "Tasa", D("0.160000")),), "A", "1", D(1),
    )  # fmt: skip
    payment = PaymentComplement(
        services.issuer_for(company),
        CUSTOMER,
        (PaymentReceived(datetime.now(UTC), "03", "MXN", D("500.00"), (paid,), None),),
    )
    for fiscal in (dollars, payment):
        document = services.issue_cfdi(company=company, document=fiscal)
        xml = bytes(CfdiDocument.objects.values_list("xml", flat=True).get(pk=document.pk))
        url = pdf.verification_url(sat.parse(xml))
        assert url == CFDI.from_string(xml).verifica_url
        assert f"id={document.uuid}&re={company.rfc}&rr={CUSTOMER.rfc}&tt=" in url
