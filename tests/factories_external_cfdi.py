"""CFDIs "stamped elsewhere" for the loading and build-from-XML tests: genuinely sealed with the
company's test CSD and stamped by the sandbox PAC, but never recorded as the project's own
(no CfdiDocument), as a CFDI issued through another provider with the same CSD would be."""

import base64
from decimal import Decimal as D
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from satcfdi.transform import xslt_transform

from cfdi import sat
from cfdi.certificates import certificate_number, read_certificate, signer_for
from cfdi.description import Concept
from cfdi.models import Csd
from cfdi.pac import get_pac
from tests.factories_cfdi import cached_key, csd_files, description


def product_a(quantity="10", price="13.50", description_="Producto A", **taxes) -> Concept:
    """The seed's concept: 10 PZA of "Producto A" at 13.50 with IVA 16% (21.60)."""
    return Concept("31161500", "H87", description_, D(quantity), D(price), unit="PZA", **taxes)


def stamped_elsewhere(company, *concepts, **fields) -> bytes:
    csd = Csd.objects.filter(company=company).order_by("-pk").first()
    comprobante, _ = sat.build_comprobante(
        description(company, *(concepts or (product_a(),)), series=fields.pop("series", "EXT"), **fields)
    )
    root = comprobante.to_xml()
    sat.seal_root(root, signer_for(csd))
    return get_pac("sandbox").stamp(sat.to_bytes(root)).xml


TFD_NS = "http://www.sat.gob.mx/TimbreFiscalDigital"


@lru_cache(maxsize=8)
def _test_certificate(rfc: str) -> bytes:
    cer, _key = csd_files(rfc)
    return cer


def seal_by_hand(unsealed: bytes, *, rfc: str | None = None, uuid_: str | None = None) -> bytes:
    """Seal a hand-written Comprobante 3.3 or 4.0 (without TFD) as its emitter would: NoCertificado,
    Certificado and the Sello over SAT's cadena original, signed with a test CSD of ``rfc`` (the
    Emisor's by default); then a TimbreFiscalDigital whose SelloCFD is that Sello, as a PAC adds."""
    root = etree.fromstring(unsealed)
    namespace = etree.QName(root).namespace
    cer = _test_certificate(rfc or root.find(f"{{{namespace}}}Emisor").get("Rfc"))
    root.set("NoCertificado", certificate_number(read_certificate(cer)))
    root.set("Certificado", base64.b64encode(cer).decode())
    cadena = str(xslt_transform(root.tag, root.get("Version"))(root)).encode("utf-8")
    sello = base64.b64encode(cached_key("default").sign(cadena, padding.PKCS1v15(), hashes.SHA256())).decode()
    root.set("Sello", sello)
    if uuid_ is not None:
        complement = etree.SubElement(root, f"{{{namespace}}}Complemento")
        etree.SubElement(
            complement,
            f"{{{TFD_NS}}}TimbreFiscalDigital",
            nsmap={"tfd": TFD_NS},
            Version="1.1",
            UUID=uuid_,
            FechaTimbrado="2026-11-20T10:00:00",
            RfcProvCertif="SAT970701NN3",
            SelloCFD=sello,
            NoCertificadoSAT="30001000000500003456",
            SelloSAT="c2VsbG8gZGVsIFNBVA==",
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
