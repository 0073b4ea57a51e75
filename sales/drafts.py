"""Fix or discard a draft invoice (issue 19).

An invoice is created as a draft and numbered only when posted; a posting that failed (no stock,
an account missing, a SAT rule) leaves the draft as it was, with no number. The cashier then
opens it, corrects it and posts it again, or discards it. Both act on a draft only, under the
document's row lock, so they cannot race a posting of the same draft: whichever takes the lock
first wins and the other finds the document no longer a draft.

The corrected draft is computed by ``prepare_document``, the same function that computes a new
one (the preview and the create), so its taxes and totals follow the one tax module.
"""

from django.db.models import ProtectedError

from erp.errors import DomainError
from erp.transactions import business_action

from .document_models import DocumentKind, DocumentStatus, SalesDocument, SalesDocumentLine
from .documents import prepare_document

# Header fields ``prepare_document`` computes that a corrected draft takes over.
_HEADER = [
    "customer", "customer_number", "customer_rfc", "customer_name", "customer_address", "customer_colonia",
    "customer_poblacion", "customer_postal_code", "customer_phones", "customer_regimen_fiscal",
    "customer_uso_cfdi", "date", "delivery_date", "payment", "currency", "exchange_rate", "reference",
    "salesperson", "observations", "substitutes", "warehouse", "importe", "discount", "subtotal", "iva",
    "ieps", "retained_iva", "retained_isr", "total", "number",
]  # fmt: skip


def can_fix(document: SalesDocument) -> bool:
    return document.kind == DocumentKind.INVOICE and document.status == DocumentStatus.DRAFT


def _locked_draft(document: SalesDocument, verb: str) -> SalesDocument:
    document = (
        SalesDocument.objects.select_for_update(of=("self",)).select_related("entity").get(pk=document.pk)
    )
    if not can_fix(document):
        raise DomainError(
            "no_es_borrador",
            f"La factura está {document.get_status_display().lower()}: solo se {verb} un borrador.",
            status=409,
        )
    return document


@business_action
def update_draft(*, document: SalesDocument, user=None, **request) -> SalesDocument:
    """Replace a draft's header and lines with the corrected request (the fields of
    ``create_document``, the entity excepted: a draft stays in its entity)."""
    document = _locked_draft(document, "corrige")
    corrected, lines = prepare_document(kind=document.kind, entity=document.entity, **request)
    for field in _HEADER:
        setattr(document, field, getattr(corrected, field))
    # The idempotency key named the first request; the corrected draft is another one.
    document.idempotency_fingerprint = ""
    document.save()
    document.lines.all().delete()
    for line in lines:
        line.document = document
    SalesDocumentLine.objects.bulk_create(lines)
    return document


@business_action
def discard_draft(*, document: SalesDocument, user=None) -> None:
    """Delete a draft invoice that will not be posted (it has no number, póliza nor CFDI)."""
    document = _locked_draft(document, "descarta")
    try:
        document.delete()
    except ProtectedError as exc:
        raise DomainError(
            "borrador_enlazado",
            "El borrador está enlazado a otros documentos y no se puede descartar.",
            status=409,
        ) from exc
