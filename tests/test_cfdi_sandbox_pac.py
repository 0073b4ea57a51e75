"""The sandbox PAC refuses what a PAC refuses, with SAT-style codes, and stamps the rest."""

import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from django.utils import timezone

from cfdi import sat
from cfdi.certificates import make_signer
from cfdi.models import SandboxStamp
from cfdi.pac import STAMPED, PACError, get_pac
from cfdi.pac.sandbox import sandbox_certificate, sandbox_certificate_number
from cfdi.testing_csd import generate_test_certificate
from tests.cfdi_verify import verify_cfdi
from tests.factories_cfdi import cached_key, concept, description, expired_window, seed_invoice

pytestmark = pytest.mark.django_db


def sealed_xml(document, *, rfc="EKU9003173C9", key_name="default", **cert_options) -> bytes:
    key = cached_key(key_name)
    cert = generate_test_certificate(rfc=rfc, legal_name="ESCUELA KEMPER URGATE", key=key, **cert_options)
    signer = make_signer(cert.public_bytes(serialization.Encoding.DER), key)
    comprobante, _ = sat.build_comprobante(document)
    return sat.seal(comprobante, signer)


def refusal(xml: bytes) -> PACError:
    with pytest.raises(PACError) as error:
        get_pac("sandbox").stamp(xml)
    assert SandboxStamp.objects.count() == 0
    return error.value


def test_stamps_a_good_cfdi(company):
    result = get_pac("sandbox").stamp(sealed_xml(seed_invoice(company)))
    assert result.code == STAMPED and len(result.uuid) == 36
    assert result.sat_certificate_number == sandbox_certificate_number()
    verify_cfdi(result.xml, pac_certificate=sandbox_certificate())


def test_malformed_xml_is_301(company):
    assert refusal(b"<cfdi:Comprobante").code == "301"


def test_schema_violation_is_301(company):
    xml = sealed_xml(seed_invoice(company)).replace(b'Exportacion="01"', b'Exportacion="99"')
    error = refusal(xml)
    assert error.code == "301" and "cfdv40.xsd" in error.message


def test_tampered_document_is_302(company):
    xml = sealed_xml(seed_invoice(company)).replace(b"Producto B", b"Producto C")
    assert refusal(xml).code == "302"


def test_csd_of_another_rfc_is_303(company):
    assert refusal(sealed_xml(seed_invoice(company), rfc="AAA010101AAA")).code == "303"


def test_fecha_outside_csd_validity_is_305(company):
    assert refusal(sealed_xml(seed_invoice(company), **expired_window())).code == "305"


def test_fiel_instead_of_csd_is_306(company):
    assert refusal(sealed_xml(seed_invoice(company), fiel=True)).code == "306"


def test_older_than_72_hours_is_401(company):
    old = timezone.now() - timedelta(hours=80)
    xml = sealed_xml(seed_invoice(company, issued_at=old), valid_from=old - timedelta(days=1))
    assert refusal(xml).code == "401"


def test_sat_rule_findings_are_refused_with_their_code(company):
    from cfdi.description import Receiver

    bad = description(
        company, concept(), receiver=Receiver("URE180429TM6", "UNIVERSIDAD", "86991", "601", "D01")
    )
    error = refusal(sealed_xml(bad))
    assert error.code == "CFDI40161"
    assert error.findings and error.findings[0]["code"] == "CFDI40161"


def test_restamp_answers_307_with_the_same_stamp(company):
    xml = sealed_xml(seed_invoice(company))
    first = get_pac("sandbox").stamp(xml)
    again = get_pac("sandbox").stamp(xml)
    stamped_again = get_pac("sandbox").stamp(first.xml)
    assert (again.code, stamped_again.code) == ("307", "307")
    assert again.uuid == stamped_again.uuid == first.uuid
    assert again.xml == first.xml
    assert SandboxStamp.objects.count() == 1


def test_restamp_after_72_hours_still_answers_307(company, monkeypatch):
    xml = sealed_xml(seed_invoice(company))
    first = get_pac("sandbox").stamp(xml)
    later = timezone.now() + timedelta(hours=80)
    monkeypatch.setattr("cfdi.pac.sandbox.timezone.now", lambda: later)
    again = get_pac("sandbox").stamp(xml)
    assert (again.code, again.uuid, again.xml) == ("307", first.uuid, first.xml)
    assert SandboxStamp.objects.count() == 1


def test_published_certificate_verifies_selloSAT(company, client):
    result = get_pac("sandbox").stamp(sealed_xml(seed_invoice(company)))
    body = client.get("/api/cfdi/sandbox-pac/certificate/").json()
    assert body["certificate_number"] == sandbox_certificate_number()
    verify_cfdi(result.xml, pac_certificate=base64.b64decode(body["certificate_base64"]))
