"""The external CFDI's files as HTTP downloads (its own actions and its invoice's)."""

from django.http import HttpResponse

from ..external_models import ExternalCfdi
from .services import external_filename, external_pdf, external_xml


def pdf_download(external: ExternalCfdi) -> HttpResponse:
    response = HttpResponse(external_pdf(external), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{external_filename(external, "pdf")}"'
    return response


def xml_download(external: ExternalCfdi) -> HttpResponse:
    response = HttpResponse(external_xml(external), content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{external_filename(external, "xml")}"'
    return response
