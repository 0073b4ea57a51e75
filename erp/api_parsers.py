"""The API's JSON parser: a number JSON can write but no column can hold is bad input.

Python's ``json`` reads ``1e999`` as ``inf`` and accepts ``NaN`` and ``Infinity``; passed on, an
infinite primary key or amount reaches ``int()`` or the database and answers 500. Here they are
a parse error (400, the usual error shape) before any view sees them.
"""

import json
import math

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _not_a_number(text: str):
    raise ValueError(f"El número «{text[:40]}» no es válido: use un número finito.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        _not_a_number(text)
    return value


class FiniteJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            return json.loads(text, parse_constant=_not_a_number, parse_float=_finite_float)
        except ValueError as exc:
            message = str(exc) if str(exc).startswith("El número") else f"JSON inválido: {exc}"
            raise ParseError(message) from exc
