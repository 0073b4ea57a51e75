"""Django's own errors under /api/ keep the API's error shape: {"code", "message", "details"}.

DRF answers its views' errors in that shape (``erp.api_errors``); what Django answers before or
around a view — an unknown route (404), a body too large (413), a bad request (400), a method a
plain view does not take (405), a CSRF refusal (403) or a crash (500) — is an HTML page. Here it
becomes the same JSON body, in Spanish.
"""

import contextlib
import json
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from rest_framework.response import Response

API_PREFIX = "/api/"

_MESSAGES = {
    400: ("solicitud_invalida", "La solicitud no es válida."),
    403: ("prohibido", "No tiene permiso para esta solicitud."),
    404: ("no_encontrado", "La ruta no existe en la API."),
    405: ("metodo_no_permitido", "El método {method} no se permite en esta ruta."),
    413: ("cuerpo_muy_grande", "La solicitud pesa más de lo permitido ({limit} MB)."),
    500: ("error_interno", "Ocurrió un error interno; el equipo de sistemas fue avisado."),
}


MULTIPART_FRAMING = 64 * 1024  # the form's boundaries, headers and fields around one file


def _limit(request) -> int:
    """Bytes a request body may have: files (multipart) up to API_MAX_UPLOAD_BYTES, or, on a route
    of API_LARGE_UPLOAD_ROUTES, up to the setting it names (plus the multipart framing, so a file
    just over that limit reaches its view and is refused there with its own message); anything
    else up to Django's DATA_UPLOAD_MAX_MEMORY_SIZE."""
    if request.META.get("CONTENT_TYPE", "").startswith("multipart/"):
        for pattern, setting in settings.API_LARGE_UPLOAD_ROUTES.items():
            if re.match(pattern, request.path):
                return max(settings.API_MAX_UPLOAD_BYTES, getattr(settings, setting) + MULTIPART_FRAMING)
        return settings.API_MAX_UPLOAD_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def error_response(request, status: int, **details) -> JsonResponse:
    code, message = _MESSAGES.get(status, ("error", "La solicitud no se pudo atender."))
    message = message.format(method=request.method, limit=round(_limit(request) / 1024 / 1024, 1))
    return JsonResponse({"code": code, "message": message, "details": details}, status=status)


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() in (
        "application/json",
        "application/problem+json",
    )


class ApiErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(request, 400)
        if length > _limit(request):
            return error_response(request, 413)
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and not isinstance(response, Response)  # DRF's own errors already have the shape
            and not _is_json(response)
            and not getattr(response, "streaming", False)
        ):
            details = {}
            if response.status_code == 405 and response.get("Allow"):
                details["allow"] = response["Allow"]
            return error_response(request, response.status_code, **details)
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, RequestDataTooBig):
            return error_response(request, 413)
        if isinstance(exception, SuspiciousOperation):
            return error_response(request, 400)
        if isinstance(exception, json.JSONDecodeError):
            return error_response(request, 400)
        return None


class ScreensInSpanishLocaleMiddleware(LocaleMiddleware):
    """The screens speak Spanish unless the user chose English (``/i18n/setlang/``'s cookie); the
    API follows ``Accept-Language`` as before.

    A browser set to English made the cashier's list half English (the statuses, which have an
    English catalogue) and half Spanish (the screens' own words, which have none): a Mexican
    business's screens are Spanish, and English is a choice, not a guess from the browser.
    """

    def process_request(self, request):
        if request.path.startswith(API_PREFIX):
            return super().process_request(request)
        language = settings.LANGUAGE_CODE
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            with contextlib.suppress(LookupError):  # a cookie naming no language we have
                language = translation.get_supported_language_variant(chosen)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
