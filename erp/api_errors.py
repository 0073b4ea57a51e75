"""One error shape for the whole API: {"code", "message", "details"}."""

from decimal import InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            message = _first_message(value)
            if message:
                return message if key in ("non_field_errors", "__all__") else f"{key}: {message}"
        return ""
    if isinstance(detail, list):
        return next((m for m in (_first_message(v) for v in detail) if m), "")
    return str(detail)


def _out_of_range() -> Response:
    """The last line behind the bounds each input has: a value the database cannot hold (a number
    out of range, a text longer than its column) is bad input, and its transaction has already
    rolled back. Whatever reaches here is a missing bound to add at its field."""
    return Response(
        {
            "code": "valor_fuera_de_rango",
            "message": "Un valor excede lo que se puede registrar (número demasiado grande o texto demasiado largo).",
            "details": {},
        },
        status=400,
    )


def exception_handler(exc, context):
    if isinstance(exc, DataError | OverflowError | InvalidOperation):
        return _out_of_range()
    if isinstance(exc, DomainError):
        return Response({"code": exc.code, "message": exc.message, "details": exc.details}, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {
            "code": "validacion",
            "message": _first_message(exc.detail) or "Datos inválidos.",
            "details": exc.detail,
        }
    else:
        # Http404 and PermissionDenied from Django arrive here already turned into DRF's detail.
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        body = {"code": getattr(detail, "code", "error"), "message": str(detail), "details": {}}
    response.data = body
    return response
