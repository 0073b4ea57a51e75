"""Reads of the CFDI engine that more than one caller needs."""

from django.db.models import QuerySet

from .models import CfdiDocument, Csd

DOCUMENT_LIST_FIELDS = [
    "id", "company_id", "kind", "status", "series", "folio", "issued_at", "issuer_rfc", "receiver_rfc",
    "receiver_name", "currency", "exchange_rate", "subtotal", "discount", "total_transferred", "total_withheld",
    "total", "uuid", "stamped_at", "pac", "pdf", "source_model", "source_id", "certificate_number",
    "last_error_code", "last_error_message", "created_at",
]  # fmt: skip


def documents_for(companies, *, status: str | None = None, source_model: str | None = None) -> QuerySet:
    """Documents of ``companies`` without the XML (lists never load it)."""
    queryset = CfdiDocument.objects.filter(company__in=companies).only(*DOCUMENT_LIST_FIELDS)
    if status:
        queryset = queryset.filter(status=status)
    if source_model:
        queryset = queryset.filter(source_model=source_model)
    return queryset


def documents_of_source(source_model: str, source_id: int) -> QuerySet:
    return CfdiDocument.objects.filter(source_model=source_model, source_id=source_id).only(
        *DOCUMENT_LIST_FIELDS
    )


def csds_for(companies) -> QuerySet:
    """CSDs of ``companies`` without key or password (they are never read for listing)."""
    return (
        Csd.objects.filter(company__in=companies)
        .select_related("company")
        .defer("private_key", "password", "certificate")
    )
