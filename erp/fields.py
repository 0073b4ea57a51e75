"""Encrypted model fields for secrets (CSD keys and passwords, PAC and connector credentials).

Values are encrypted with Fernet under FIELD_ENCRYPTION_KEY; the database never holds them in
clear. Without a configured key (development only) one is derived from SECRET_KEY.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        digest = hashlib.sha256(("field-encryption:" + settings.SECRET_KEY).encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    try:
        return Fernet(key)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY debe ser una llave Fernet (32 bytes en base64 urlsafe)."
        ) from exc


def encrypt_bytes(data: bytes) -> str:
    return _fernet().encrypt(data).decode("ascii")


def decrypt_bytes(token: str) -> bytes:
    try:
        return _fernet().decrypt(token.encode("ascii"))
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "No se pudo descifrar un secreto: FIELD_ENCRYPTION_KEY no es la que lo cifró."
        ) from exc


class EncryptedBinaryField(models.TextField):
    """Bytes in Python, a Fernet token in the database."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt_bytes(value)

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = value.encode("utf-8")
        return encrypt_bytes(bytes(value))


class EncryptedTextField(models.TextField):
    """Text in Python, a Fernet token in the database."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt_bytes(value).decode("utf-8")

    def get_prep_value(self, value):
        if value is None:
            return None
        return encrypt_bytes(str(value).encode("utf-8"))
