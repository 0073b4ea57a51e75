"""cfdv40.xsd as the project validates it (its three largest catalogs checked in sets) answers as
SAT's schema compiled as published does (tests/cfdi_verify.SCHEMA)."""

import pytest
from cryptography.hazmat.primitives import serialization

from cfdi import sat
from cfdi.certificates import make_signer
from cfdi.pac import PACError, get_pac
from cfdi.testing_csd import generate_test_certificate
from tests.cfdi_verify import SCHEMA
from tests.factories_cfdi import cached_key, seed_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed(company) -> bytes:
    key = cached_key()
    cert = generate_test_certificate(rfc=company.rfc, legal_name="ESCUELA KEMPER URGATE", key=key)
    comprobante, _ = sat.build_comprobante(seed_invoice(company))
    return sat.seal(comprobante, make_signer(cert.public_bytes(serialization.Encoding.DER), key))


def product_key(xml: bytes, value: str) -> bytes:
    return xml.replace(b'ClaveProdServ="01010101"', f'ClaveProdServ="{value}"'.encode(), 1)


@pytest.mark.parametrize(
    "change, valid",
    [
        (lambda xml: xml, True),
        (lambda xml: product_key(xml, "84111506"), True),  # late in c_ClaveProdServ
        (lambda xml: product_key(xml, " 84111506 "), True),  # whiteSpace collapse
        (lambda xml: product_key(xml, "&#9;84111506"), True),
        (lambda xml: product_key(xml, "99999999"), False),
        (lambda xml: xml.replace(b'ClaveUnidad="H87"', b'ClaveUnidad="ZZZZ"'), False),
        (lambda xml: xml.replace(b'ClaveUnidad="H87"', b'ClaveUnidad="H87&#160;"'), False),  # not XML space
        (lambda xml: xml.replace(b'Exportacion="01"', b'Exportacion="99"'), False),
    ],
    ids=[
        "as-built",
        "late-key",
        "padded-key",
        "tab-key",
        "unknown-key",
        "unknown-unit",
        "nbsp-unit",
        "exportacion",
    ],
)
def test_answers_as_the_published_schema(sealed, change, valid):
    root = sat.parse(change(sealed))
    assert SCHEMA.validate(root) is valid
    assert (sat.schema_errors(root) == []) is valid


def test_large_catalogs_are_checked_in_sets_and_told_in_spanish(sealed):
    root = sat.parse(
        product_key(sealed, "99999999").replace(b'LugarExpedicion="42501"', b'LugarExpedicion="00001"')
    )
    # Only the set lookups answer: libxml2 no longer scans these enumerations.
    assert sat.schema_errors(root) == [
        "línea 2: ClaveProdServ «99999999» no está en el catálogo c_ClaveProdServ del SAT.",
        "línea 2: LugarExpedicion «00001» no está en el catálogo c_CodigoPostal del SAT.",
    ]


def test_the_sandbox_refuses_an_unknown_product_key_with_301(sealed):
    with pytest.raises(PACError) as error:
        get_pac("sandbox").stamp(product_key(sealed, "99999999"))
    assert error.value.code == "301"
    assert "ClaveProdServ «99999999» no está en el catálogo c_ClaveProdServ" in error.value.message
