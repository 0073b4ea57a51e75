"""The CFDI engine's payment complement on its own (no sales): SAT's rounding of the proportional
taxes and Totales, the issued CFDI verified, and the checker's Pagos 2.0 rules."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from django.utils import timezone

from cfdi import checker, sat, services
from cfdi.description import DocumentTax, Issuer, PaidDocument, PaymentComplement, PaymentReceived, Receiver
from cfdi.pac.sandbox import sandbox_certificate
from cfdi.payments import paid_taxes, payment_taxes, totals
from erp.errors import DomainError
from tests.cfdi_verify import verify_cfdi
from tests.factories import CompanyFactory
from tests.factories_cfdi import install_test_csd

P = "{http://www.sat.gob.mx/Pagos20}"
C = "{http://www.sat.gob.mx/cfd/4}"
IVA16 = DocumentTax("002", D("1000.00"), D("160.00"), "Tasa", D("0.160000"))
ISSUER = Issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", "601", "42501")
RECEIVER = Receiver("URE180429TM6", "UNIVERSIDAD ROBOTICA ESPAÑOLA", "86991", "601", "G03")
UUID = "11111111-2222-3333-4444-555555555555"


def document(paid, before="1160.00", n=1, taxes=(IVA16,), total="1160.00", currency="MXN", eq=1):
    return PaidDocument(UUID, currency, n, D(before), D(paid), D(total), taxes, "A", "1", D(eq))


def payment(*documents, amount=None, currency="MXN", rate=None):
    amount = amount if amount is not None else sum((d.amount_paid for d in documents), D(0))
    return PaymentReceived(datetime.now(UTC), "03", currency, D(amount), documents, D(rate) if rate else None)


def test_proportional_taxes_are_rounded_never_truncated_and_add_up_exactly():
    first = paid_taxes(document("500.00"))[0]
    assert (first.base, first.amount) == (
        D("431.03"),
        D("68.97"),
    )  # 68.9655… rounds up; truncating gives 68.96
    parts = [("333.33", "1160.00"), ("333.33", "826.67"), ("493.34", "493.34")]
    taxes = [paid_taxes(document(paid, before, n))[0] for n, (paid, before) in enumerate(parts, 1)]
    assert sum(t.amount for t in taxes) == D("160.00")
    assert sum(t.base for t in taxes) == D("1000.00")


def test_totales_equal_the_sum_of_several_documents():
    docs = [document("100.01"), document("77.77"), document("1160.00")]
    received = payment(*docs)
    (key,) = payment_taxes(received)
    base, amount = payment_taxes(received)[key]
    assert amount == sum(paid_taxes(d)[0].amount for d in docs)
    result = totals([received])
    assert result["TotalTrasladosImpuestoIVA16"] == amount and result["TotalTrasladosBaseIVA16"] == base
    assert result["MontoTotalPagos"] == D("1337.78")


def test_usd_payment_of_an_mxn_invoice_converts_once():
    received = payment(document("862.50", eq="17.25"), amount="50.00", currency="USD", rate="17.25")
    (key,) = payment_taxes(received)
    assert payment_taxes(received)[key][1] == D("6.90")  # 118.97 MXN / 17.25
    assert totals([received])["MontoTotalPagos"] == D("862.50")


@pytest.mark.django_db
def test_a_complement_is_issued_verified_and_checked():
    company = CompanyFactory(rfc="EKU9003173C9", legal_name="ESCUELA KEMPER URGATE", postal_code="42501")
    install_test_csd(company)
    complement = PaymentComplement(ISSUER, RECEIVER, (payment(document("500.00")),), series="P", folio="1")
    stamped = services.issue_cfdi(company=company, document=complement)
    assert (stamped.kind, stamped.total) == ("P", 0)
    root = verify_cfdi(bytes(stamped.xml), pac_certificate=sandbox_certificate())
    assert root.find(f".//{P}Totales").get("TotalTrasladosImpuestoIVA16") == "68.97"
    assert checker.check(root) == []


def _codes(root):
    return {f.code for f in checker.check(root)}


def test_the_checker_knows_the_pagos_rules():
    complement = PaymentComplement(ISSUER, RECEIVER, (payment(document("500.00")),))
    comprobante, _ = sat.build_comprobante(complement)
    root = comprobante.to_xml()
    assert _codes(root) == set()
    docto = root.find(f".//{P}DoctoRelacionado")
    docto.set("ImpSaldoInsoluto", "600.00")
    root.find(f".//{P}Totales").set("TotalTrasladosImpuestoIVA16", "69.00")
    root.set("FormaPago", "99")
    root.find(f".//{P}Pago").set("Monto", "400.00")
    assert {"CRP20244", "CRP20205", "CRP20105", "CRP20217"} <= _codes(root)
    # SAT's fixed values of the one Concepto and the Pago's accounts (CRP20111–CRP20122, CRP20221…).
    concept = root.find(f".//{C}Concepto")
    concept.set("ClaveProdServ", "01010101")
    concept.set("NoIdentificacion", "X")
    pago = root.find(f".//{P}Pago")
    pago.set("FormaDePagoP", "01")
    pago.set("CtaOrdenante", "002180700123456789")
    pago.set("TipoCambioP", "1.0")
    docto.set("ObjetoImpDR", "01")
    codes = _codes(root)
    assert {"CRP20113", "CRP20114", "CRP20224", "CRP20215", "CRP20247"} <= codes
    assert not {c for c in codes if c.startswith("CRP") and len(c) == 6}  # no Pagos 1.0 (CRPnnn) codes


def test_bad_payments_are_refused_in_spanish():
    for bad in (
        payment(document("500.00"), amount="400.00"),  # Monto below what the documents say
        payment(document("2000.00")),  # more than the balance
        PaymentReceived(timezone.now(), "99", "MXN", D("500.00"), (document("500.00"),)),
    ):
        with pytest.raises(DomainError) as refused:
            sat.build_comprobante(PaymentComplement(ISSUER, RECEIVER, (bad,)))
        assert refused.value.code == "pago_invalido"
