"""Reads of the CFDI engine that more than one caller needs."""

from django.db.models import QuerySet

from .models import CfdiDocument, Csd


def documents_for(companies, *, status: str | None = None, source_model: str | None = None) -> QuerySet:
    """Documents of ``companies`` without the XML (lists never load it)."""
    queryset = CfdiDocument.objects.filter(company__in=companies).defer("xml")
    if status:
        queryset = queryset.filter(status=status)
    if source_model:
        queryset = queryset.filter(source_model=source_model)
    return queryset


def documents_of_source(source_model: str, source_id: int) -> QuerySet:
    return CfdiDocument.objects.filter(source_model=source_model, source_id=source_id).defer("xml")


def csds_for(companies) -> QuerySet:
    """CSDs of ``companies`` without key or password (they are never read for listing)."""
    return (
        Csd.objects.filter(company__in=companies)
        .select_related("company")
        .defer("private_key", "password", "certificate")
    )


def cfdi_columns(source_model: str, source_ids) -> dict[int, str]:
    """The CFDI column of a list of source rows (e.g. invoices) in one query: "---" (not
    stamped), "TFD" (stamped, PDF not yet) or "PDF" (complete). Rows without a CFDI get "---";
    a row with several documents (a re-issue after a refusal) shows its most advanced one."""
    rank = {"---": 0, "TFD": 1, "PDF": 2}
    columns = {source_id: "---" for source_id in source_ids}
    rows = CfdiDocument.objects.filter(source_model=source_model, source_id__in=list(columns)).values_list(
        "source_id", "status", "pdf"
    )
    for source_id, status, pdf in rows:
        column = "---" if status != CfdiDocument.Status.STAMPED else ("PDF" if pdf else "TFD")
        if rank[column] > rank[columns[source_id]]:
            columns[source_id] = column
    return columns
