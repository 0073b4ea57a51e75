"""Test certificates in SAT's formats, generated with ``cryptography`` (demo data and tests).

They are signed by a throwaway test authority, not by SAT: a real PAC refuses them, the sandbox
PAC accepts them. ``generate_test_csd`` returns the two files a taxpayer downloads from SAT:
the certificate as DER X.509 and the private key as DER PKCS#8 encrypted with ``password``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .certificates import X500_UNIQUE_IDENTIFIER

_SERIALS = itertools.count(1)


def new_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@lru_cache(maxsize=1)
def _test_authority() -> tuple[rsa.RSAPrivateKey, x509.Name]:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "AC DE PRUEBAS DEL ERP (NO ES DEL SAT)"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ERP PRUEBAS"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "MX"),
        ]
    )
    return new_key(), name


def serial_for(digits: str) -> int:
    """SAT's serial numbers are the ASCII bytes of the 20-digit NoCertificado."""
    return int.from_bytes(digits.encode("ascii"), "big")


def next_certificate_number(prefix: str = "30001000000") -> str:
    return f"{prefix}{next(_SERIALS) + 500000000:09d}"[:20].ljust(20, "0")


def generate_test_certificate(
    *,
    rfc: str,
    legal_name: str,
    key: rsa.RSAPrivateKey,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    fiel: bool = False,
    certificate_number: str | None = None,
    issuer_key: rsa.RSAPrivateKey | None = None,
    issuer_name: x509.Name | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    valid_from = valid_from or now - timedelta(days=1)
    valid_to = valid_to or now + timedelta(days=4 * 365)
    ca_key, ca_name = (issuer_key, issuer_name) if issuer_key else _test_authority()
    subject = [
        x509.NameAttribute(NameOID.COMMON_NAME, legal_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, legal_name),
        x509.NameAttribute(X500_UNIQUE_IDENTIFIER, f"{rfc} / "),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, " / "),
    ]
    if not fiel:
        subject.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Matriz"))
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(serial_for(certificate_number or next_certificate_number()))
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=True,
            content_commitment=True,
            key_encipherment=False,
            data_encipherment=fiel,
            key_agreement=fiel,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=False,
    )
    if fiel:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def key_der(key: rsa.RSAPrivateKey, password: str) -> bytes:
    """DER PKCS#8 encrypted with ``password``, as SAT's .key files."""
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode("utf-8")),
    )


def generate_test_csd(
    rfc: str, legal_name: str, password: str, *, key: rsa.RSAPrivateKey | None = None, **options
) -> tuple[bytes, bytes]:
    """(cer_bytes, key_bytes) of a CSD for ``rfc``, valid from yesterday for four years.

    ``options`` go to ``generate_test_certificate`` (valid_from, valid_to, fiel, ...)."""
    key = key or new_key()
    cert = generate_test_certificate(rfc=rfc, legal_name=legal_name, key=key, **options)
    return cert.public_bytes(serialization.Encoding.DER), key_der(key, password)
