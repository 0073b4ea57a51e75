"""The sales documents' owner links (erp.ownership): "VFAC|12|…" names the invoice A-12,
"VDEV|3|…" the return or rebate NCA3, "VPAG|7|…" the customer payment 7."""

from erp.ownership import Owner, register_owner

from .document_models import ORIGIN_MODULE, DocumentKind, SalesDocument
from .payments.models import ORIGIN_MODULE as PAYMENT_MODULE
from .payments.models import CustomerPayment
from .returns.models import ORIGIN_MODULE as CREDIT_NOTE_MODULE
from .returns.models import CreditNote

NOUNS = {
    DocumentKind.QUOTE: "la cotización",
    DocumentKind.ORDER: "el pedido",
    DocumentKind.REMISSION: "la remisión",
    DocumentKind.INVOICE: "la factura",
}


def document_label(document: SalesDocument) -> str:
    number = document.number if document.number is not None else f"#{document.pk}"
    return f"{document.series}-{number}" if document.series else str(number)


def _describe(kind: str):
    def describe(pk: int) -> Owner | None:
        document = SalesDocument.objects.filter(pk=pk, kind=kind).only("series", "number").first()
        if document is None:
            return None
        return Owner(noun=NOUNS[kind], label=f"{NOUNS[kind]} {document_label(document)}")

    return describe


def _describe_credit_note(pk: int) -> Owner | None:
    note = CreditNote.objects.filter(pk=pk).only("kind", "series", "number").first()
    if note is None:
        return None
    noun = "la devolución" if note.kind == CreditNote.Kind.RETURN else "la rebaja"
    number = f"{note.series}{note.number}" if note.number is not None else f"#{pk}"
    return Owner(noun=noun, label=f"{noun} {number}")


def _describe_payment(pk: int) -> Owner | None:
    if not CustomerPayment.objects.filter(pk=pk).exists():
        return None
    return Owner(noun="el pago", label=f"el pago {pk}")


def register() -> None:
    for kind, module in ORIGIN_MODULE.items():
        register_owner(module, _describe(kind))
    register_owner(CREDIT_NOTE_MODULE, _describe_credit_note)
    register_owner(PAYMENT_MODULE, _describe_payment)
