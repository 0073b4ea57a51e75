"""Does a CFDI stamped elsewhere prove itself? Its sello against its own certificate.

A CFDI loaded from outside is believed only when: SAT's cadena original (the 3.2, 3.3 or 4.0
XSLT) verifies against ``Sello`` with the public key of the embedded ``Certificado`` (RSA with
SHA-256; SHA-1 for 3.2), ``NoCertificado`` is that certificate's number, the certificate is the
emitter's RFC, and the TimbreFiscalDigital, when present, stamps this very sello (``SelloCFD``).
A file with a DOCTYPE or entity declaration is no CFDI and is refused before it is parsed.
"""

import base64
import binascii
import contextlib
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from satcfdi.transform import xslt_transform

from erp.errors import DomainError
from erp.rfc import normalize_rfc

from .certificates import certificate_info, certificate_number

TFD = "{http://www.sat.gob.mx/TimbreFiscalDigital}TimbreFiscalDigital"
ALTERED_MESSAGE = (
    "El sello del CFDI no corresponde a su contenido: el documento fue alterado después de sellarse "
    "o no lo selló el certificado que trae."
)
_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")


def _refused(code: str, message: str) -> DomainError:
    return DomainError(code, message)


def refuse_declarations(xml: bytes) -> None:
    """A CFDI has no DTD: a DOCTYPE or ENTITY declaration is refused before parsing (entity
    expansion, external entities). UTF-16 files are checked decoded, too."""
    probes = [bytes(xml)]
    if xml[:2] in (b"\xff\xfe", b"\xfe\xff"):
        with contextlib.suppress(UnicodeDecodeError):
            probes.append(bytes(xml).decode("utf-16").encode("utf-8"))
    if any(marker in probe.upper() for probe in probes for marker in _DECLARATIONS):
        raise _refused(
            "cfdi_invalido",
            "El archivo no es un CFDI válido: contiene una declaración DOCTYPE o ENTITY, que un CFDI no lleva.",
        )


def refuse_parsed_declarations(root) -> None:
    """The same check on a parsed tree (any encoding): no DTD at all."""
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        refuse_declarations(b"<!DOCTYPE")


@lru_cache(maxsize=4)
def _cadena_transform(tag: str, version: str) -> etree.XSLT:
    return xslt_transform(tag, version)


def _attribute(node, name: str, version: str) -> str:
    """3.2 writes the sello's attributes in lower camel case (``sello``, ``noCertificado``)."""
    if version == "3.2":
        name = name[0].lower() + name[1:]
    return (node.get(name) or "").strip()


def verify_seal(root) -> None:
    """Raise a Spanish ``DomainError`` unless the Comprobante ``root`` is sealed by its emitter."""
    version = root.get("Version") or root.get("version") or ""
    if version not in ("3.2", "3.3", "4.0"):
        raise _refused("cfdi_version", f"No se puede verificar el sello de un CFDI versión «{version}».")
    sello = _attribute(root, "Sello", version)
    certificate_b64 = _attribute(root, "Certificado", version)
    number = _attribute(root, "NoCertificado", version)
    if not sello or not certificate_b64 or not number:
        raise _refused(
            "cfdi_sin_sello", "El CFDI no está sellado: le falta el Sello, el Certificado o el NoCertificado."
        )
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(certificate_b64, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise _refused(
            "cfdi_certificado_invalido", "El Certificado que trae el CFDI no es un certificado X.509 legible."
        ) from exc
    own_number = certificate_number(certificate)
    if own_number != number:
        raise _refused(
            "cfdi_no_certificado",
            f"El NoCertificado del CFDI ({number}) no es el número del certificado que trae ({own_number}).",
        )
    issuer = root.find(f"{{{etree.QName(root).namespace}}}Emisor")
    emitter_rfc = normalize_rfc(_attribute(issuer, "Rfc", version)) if issuer is not None else ""
    certificate_rfc = certificate_info(certificate).rfc
    if certificate_rfc != emitter_rfc:
        raise _refused(
            "cfdi_certificado_ajeno",
            f"El certificado con que se selló el CFDI es del RFC {certificate_rfc or 'desconocido'}, "
            f"no del emisor ({emitter_rfc or 'sin RFC'}).",
        )
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise _refused("cfdi_certificado_invalido", "El certificado del CFDI no tiene una llave RSA.")
    try:
        cadena = str(_cadena_transform(root.tag, version)(root)).encode("utf-8")
        signature = base64.b64decode(sello, validate=True)
        digest = hashes.SHA1() if version == "3.2" else hashes.SHA256()
        public_key.verify(signature, cadena, padding.PKCS1v15(), digest)
    except (InvalidSignature, ValueError, binascii.Error, etree.XSLTError) as exc:
        raise _refused("cfdi_sello_invalido", ALTERED_MESSAGE) from exc
    stamp = root.find(f".//{TFD}")
    if stamp is not None and (stamp.get("SelloCFD") or stamp.get("selloCFD") or "").strip() != sello:
        raise _refused(
            "cfdi_timbre_ajeno",
            "El timbre fiscal del CFDI no corresponde a su sello (SelloCFD distinto del Sello): "
            "el timbre es de otro comprobante.",
        )
