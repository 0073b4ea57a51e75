"""RFC (Registro Federal de Contribuyentes) structure rules.

A persona moral has a 12-character RFC (3 letters), a persona física 13 (4 letters), followed by
the date of incorporation or birth (YYMMDD) and a 3-character homoclave.
"""

import re
from datetime import date

RFC_PUBLICO_GENERAL = "XAXX010101000"
RFC_EXTRANJERO = "XEXX010101000"
GENERIC_RFCS = frozenset({RFC_PUBLICO_GENERAL, RFC_EXTRANJERO})

PERSONA_MORAL = "moral"
PERSONA_FISICA = "fisica"

_RFC_RE = re.compile(r"^([A-ZÑ&]{3,4})(\d{2})(\d{2})(\d{2})([A-Z\d]{2}[A\d])$")


def normalize_rfc(value: str) -> str:
    return (value or "").strip().upper()


def is_valid_rfc(value: str) -> bool:
    rfc = normalize_rfc(value)
    if rfc in GENERIC_RFCS:
        return True
    match = _RFC_RE.match(rfc)
    if not match:
        return False
    _, yy, mm, dd, _ = match.groups()
    # The century is unknown; 2000 is a leap year, so 29 February always parses.
    try:
        date(2000, int(mm), int(dd))
    except ValueError:
        return False
    return True


# SAT's values for the check digit (dígito verificador) of an RFC, a space padding a persona moral's.
_CHECK_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ")}


def check_digit(value: str) -> str | None:
    """The check digit the RFC's first 11 or 12 characters call for (modulus 11 with weights 13
    to 2 over the RFC right-aligned to 12 characters; 10 is "A"); None if it is not computable."""
    rfc = normalize_rfc(value)
    body = rfc[:-1].rjust(12)
    if len(body) != 12 or any(c not in _CHECK_VALUES for c in body):
        return None
    remainder = sum(_CHECK_VALUES[c] * (13 - i) for i, c in enumerate(body)) % 11
    digit = 11 - remainder
    return "0" if digit == 11 else "A" if digit == 10 else str(digit)


def check_digit_ok(value: str) -> bool:
    """Whether the RFC's last character is its check digit (generic RFCs are exempt)."""
    rfc = normalize_rfc(value)
    return rfc in GENERIC_RFCS or check_digit(rfc) == rfc[-1:]


def person_type(value: str) -> str:
    """Persona moral (12 characters) or física (13). Generic RFCs count as física, as SAT does."""
    return PERSONA_MORAL if len(normalize_rfc(value)) == 12 else PERSONA_FISICA


def is_generic_rfc(value: str) -> bool:
    return normalize_rfc(value) in GENERIC_RFCS
