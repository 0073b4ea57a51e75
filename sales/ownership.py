"""The sales documents' owner links (erp.ownership): "VFAC|12|…" names the invoice A-12."""

from erp.ownership import Owner, register_owner

from .document_models import ORIGIN_MODULE, DocumentKind, SalesDocument

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


def register() -> None:
    for kind, module in ORIGIN_MODULE.items():
        register_owner(module, _describe(kind))
