"""CSD certificates and keys as SAT issues them: DER X.509 certificate, DER PKCS#8 encrypted key.

``inspect_csd`` checks an upload and answers in Spanish what is wrong with it. ``signer_for``
keeps decrypted keys in the process's memory (decrypting a PKCS#8 key costs ~30 ms), never on disk.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from OpenSSL import crypto
from satcfdi.models import Signer

from erp.errors import DomainError
from erp.rfc import normalize_rfc

X500_UNIQUE_IDENTIFIER = x509.ObjectIdentifier("2.5.4.45")


@dataclass(frozen=True)
class CertificateInfo:
    serial_number: str  # NoCertificado: 20 digits
    rfc: str
    name: str
    valid_from: datetime
    valid_to: datetime
    is_csd: bool


def certificate_number(cert: x509.Certificate) -> str:
    """SAT encodes the 20-digit NoCertificado as the ASCII bytes of the serial number."""
    raw = cert.serial_number.to_bytes((cert.serial_number.bit_length() + 7) // 8, "big")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    return text if text.isdigit() else str(cert.serial_number)


def _subject_value(cert: x509.Certificate, oid) -> str:
    attrs = cert.subject.get_attributes_for_oid(oid)
    if not attrs:
        return ""
    value = attrs[0].value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _is_csd(cert: x509.Certificate) -> bool:
    """A CSD may only sign: key usage digitalSignature + nonRepudiation, nothing else.
    An e.firma (FIEL) also allows data encipherment and key agreement and has extended usages."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False
    try:
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        return False
    except x509.ExtensionNotFound:
        pass
    return (
        usage.digital_signature
        and usage.content_commitment
        and not usage.data_encipherment
        and not usage.key_agreement
        and not usage.key_encipherment
    )


def read_certificate(cer: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(bytes(cer))
    except (ValueError, TypeError) as exc:
        raise DomainError(
            "csd_certificado_invalido",
            "El archivo .cer no es un certificado del SAT (X.509 en formato DER).",
        ) from exc


def certificate_info(cert: x509.Certificate) -> CertificateInfo:
    unique = _subject_value(cert, X500_UNIQUE_IDENTIFIER)
    rfc = normalize_rfc(unique.split("/")[0]) if unique else ""
    return CertificateInfo(
        serial_number=certificate_number(cert),
        rfc=rfc,
        name=_subject_value(cert, NameOID.ORGANIZATION_NAME) or _subject_value(cert, NameOID.COMMON_NAME),
        valid_from=cert.not_valid_before_utc,
        valid_to=cert.not_valid_after_utc,
        is_csd=_is_csd(cert),
    )


def load_private_key(key: bytes, password: str) -> rsa.RSAPrivateKey:
    """Decrypt a SAT .key (DER PKCS#8, encrypted). Wrong password and wrong file are told apart."""
    key = bytes(key)
    try:
        serialization.load_der_private_key(key, password=None)
    except TypeError:
        pass  # encrypted, as SAT issues it
    except ValueError as exc:
        raise DomainError(
            "csd_llave_invalida",
            "El archivo .key no es una llave privada del SAT (PKCS#8 cifrada en formato DER).",
        ) from exc
    else:
        raise DomainError(
            "csd_llave_sin_cifrar",
            "La llave privada no está cifrada; suba el archivo .key tal como lo entrega el SAT.",
        )
    try:
        private_key = serialization.load_der_private_key(key, password=(password or "").encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise DomainError(
            "csd_contrasena_incorrecta", "La contraseña de la llave privada (.key) es incorrecta."
        ) from exc
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise DomainError("csd_llave_invalida", "La llave privada debe ser RSA, como las que emite el SAT.")
    return private_key


def _same_public_key(private_key, cert: x509.Certificate) -> bool:
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_key.public_key().public_bytes(*fmt) == cert.public_key().public_bytes(*fmt)


def inspect_csd(*, cer: bytes, key: bytes, password: str, rfc: str, now: datetime) -> CertificateInfo:
    """Check a CSD upload for ``rfc`` at ``now``; the first problem found is raised in Spanish."""
    cert = read_certificate(cer)
    info = certificate_info(cert)
    if not info.is_csd:
        raise DomainError(
            "csd_es_fiel",
            "El certificado es de e.firma (FIEL). Para facturar se requiere un Certificado de Sello "
            "Digital (CSD); solicítelo en el portal del SAT con su e.firma.",
        )
    if info.rfc != normalize_rfc(rfc):
        raise DomainError(
            "csd_rfc_distinto",
            f"El certificado es del RFC {info.rfc or '(sin RFC)'}, no del RFC de la empresa {normalize_rfc(rfc)}.",
            certificate_rfc=info.rfc,
        )
    if now < info.valid_from:
        raise DomainError(
            "csd_no_vigente",
            f"El certificado aún no es vigente: lo será a partir del {info.valid_from:%d/%m/%Y %H:%M} UTC.",
        )
    if now > info.valid_to:
        raise DomainError("csd_vencido", f"El certificado venció el {info.valid_to:%d/%m/%Y %H:%M} UTC.")
    private_key = load_private_key(key, password)
    if not _same_public_key(private_key, cert):
        raise DomainError(
            "csd_llave_no_corresponde", "La llave privada (.key) no corresponde al certificado (.cer)."
        )
    return info


# Decrypted keys of this process, by CSD id and its upload stamp; never written anywhere.
_SIGNERS: dict[tuple, Signer] = {}
_SIGNERS_LOCK = threading.Lock()


def make_signer(cer: bytes, private_key: rsa.RSAPrivateKey) -> Signer:
    return Signer(crypto.X509.from_cryptography(read_certificate(cer)), private_key, check=False)


def signer_for(csd) -> Signer:
    """The satcfdi Signer of a stored CSD, decrypted once per process."""
    cache_key = (csd.pk, hashlib.sha256(bytes(csd.certificate)).hexdigest())
    signer = _SIGNERS.get(cache_key)
    if signer is None:
        signer = make_signer(csd.certificate, load_private_key(csd.private_key, csd.password))
        with _SIGNERS_LOCK:
            _SIGNERS[cache_key] = signer
    return signer


def forget_signers() -> None:
    with _SIGNERS_LOCK:
        _SIGNERS.clear()
