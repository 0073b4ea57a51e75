"""Independent verification of a CFDI, the way SAT and a customer's accountant check one: schema,
sello over the cadena original (SAT's XSLT), and the TFD's SelloSAT with the PAC's certificate."""

import base64
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from satcfdi.transform import SCHEMA_ROOT

CFDI = "{http://www.sat.gob.mx/cfd/4}"
TFD = "{http://www.sat.gob.mx/TimbreFiscalDigital}"
_SAT = os.path.join(SCHEMA_ROOT, "www.sat.gob.mx", "sitio_internet", "cfd")


def _schema():
    wrapper = etree.fromstring(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:import namespace="http://www.sat.gob.mx/cfd/4" schemaLocation="4/cfdv40.xsd"/>'
        '<xs:import namespace="http://www.sat.gob.mx/TimbreFiscalDigital" '
        'schemaLocation="TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd"/>'
        '<xs:import namespace="http://www.sat.gob.mx/Pagos20" schemaLocation="Pagos/Pagos20.xsd"/></xs:schema>',
        base_url=os.path.join(_SAT, "verify.xsd"),
    )
    return etree.XMLSchema(wrapper)


SCHEMA = _schema()
CADENA = etree.XSLT(etree.parse(os.path.join(_SAT, "4", "cadenaoriginal_4_0", "cadenaoriginal_4_0.xslt")))
CADENA_TFD = etree.XSLT(etree.parse(os.path.join(_SAT, "TimbreFiscalDigital", "cadenaoriginal_TFD_1_1.xslt")))


def _verify(cert: x509.Certificate, signature_b64: str, data: str) -> None:
    cert.public_key().verify(
        base64.b64decode(signature_b64), data.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
    )


def verify_cfdi(xml: bytes, *, pac_certificate: bytes | None = None):
    """Raise if the CFDI does not validate or a seal does not verify; return the parsed root."""
    root = etree.fromstring(xml)
    assert SCHEMA.validate(root), SCHEMA.error_log
    cert = x509.load_der_x509_certificate(base64.b64decode(root.get("Certificado")))
    _verify(cert, root.get("Sello"), str(CADENA(root)))
    tfd = root.find(f"{CFDI}Complemento/{TFD}TimbreFiscalDigital")
    if pac_certificate is not None:
        assert tfd is not None, "sin TimbreFiscalDigital"
        assert tfd.get("SelloCFD") == root.get("Sello")
        _verify(x509.load_der_x509_certificate(pac_certificate), tfd.get("SelloSAT"), str(CADENA_TFD(tfd)))
    return root
