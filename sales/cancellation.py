"""Cancelling an invoice by the seed's seven rules, in one transaction; and tracking (rastrear)
every record an invoice produced or is linked to."""

from django.utils import timezone

from accounting.models import JournalEntry
from accounting.services import cancel_entries_for_origin
from cashbank.models import CashMovement
from cashbank.services import cancel_cash_movement
from cfdi.models import CfdiDocument
from erp.errors import DomainError
from erp.transactions import business_action, dry_run
from inventory.models import StockMovement
from inventory.services import cancel_stock_movement

from .cfdi_mapping import SOURCE_MODEL
from .document_models import DocumentKind, DocumentStatus, SalesDocument
from .external_cfdi import free_external_cfdis
from .global_invoice.services import refuse_if_in_global_invoice
from .invoice_cfdi import cancel_invoice_cfdi, invoice_cfdi
from .receivables.models import Receivable
from .receivables.services import CANCEL_WITH_RECORDS_MESSAGE, can_cancel_receivable, cancel_receivable
from .returns.selectors import live_credit_note


def can_cancel(document: SalesDocument) -> bool:
    return document.status != DocumentStatus.CANCELLED


def _refuse_with_credit_note(document: SalesDocument) -> None:
    """An invoice with a return or rebate standing cannot be cancelled until it is; nor a ticket
    in a sealed or stamped global invoice."""
    refuse_if_in_global_invoice(document)
    note = live_credit_note(document)
    if note is not None:
        raise DomainError(
            "factura_con_nota_de_credito",
            f"La factura tiene la {note.get_kind_display().lower()} {note} vigente: cancele primero la "
            "devolución o rebaja.",
            status=409,
        )


def _live_invoice(document: SalesDocument) -> SalesDocument | None:
    return (
        document.generated_documents.filter(kind=DocumentKind.INVOICE)
        .exclude(status=DocumentStatus.CANCELLED)
        .first()
    )


@business_action
def cancel_document(*, document: SalesDocument, user=None) -> SalesDocument:
    """Cancel a quote, order or remission (a remission gives its goods back and cancels its cost
    entry); one that a live invoice came from is refused: cancel the invoice first."""
    if document.kind == DocumentKind.INVOICE:
        return cancel_invoice(document=document, user=user)
    document = SalesDocument.objects.select_for_update(of=("self",)).get(pk=document.pk)
    if not can_cancel(document):
        raise DomainError("documento_cancelado", f"{document} ya está cancelado.", status=409)
    invoice = _live_invoice(document)
    if invoice is not None:
        raise DomainError(
            "documento_facturado",
            f"{document} está facturado en {invoice}: cancele primero la factura.",
            status=409,
        )
    if document.stock_movement_id and document.stock_movement.status != StockMovement.Status.CANCELLED:
        cancel_stock_movement(movement=document.stock_movement, user=user, by_owner=True)
    document.status = DocumentStatus.CANCELLED
    document.cancelled_at = timezone.now()
    document.save(update_fields=["status", "cancelled_at"])
    return document


@business_action
def cancel_invoice(*, document: SalesDocument, user=None) -> SalesDocument:
    """Cancel an invoice and undo what it wrote; all or nothing.

    1. its quote, order or remission is freed to be invoiced again (the link only binds live invoices);
    2. contado: its cash and bank movements are cancelled;
    3. crédito: its receivable is cancelled, refused while payments or balances are applied to it;
    4. from a remission: the remission's stock exit and cost entry stay (they are the remission's);
       otherwise its own stock exit is cancelled, giving the goods and their cost back;
    5. every póliza tied to the invoice is cancelled;
    6. its stamped CFDI must have been cancelled with SAT (cancel_invoice_and_cfdi asks the PAC);
    7. CFDIs stamped elsewhere and linked to it are freed, to be linked to another invoice.
    """
    document = (
        SalesDocument.objects.select_for_update(of=("self",)).select_related("company").get(pk=document.pk)
    )
    if not can_cancel(document):
        raise DomainError("factura_cancelada", "La factura ya está cancelada.", status=409)
    _refuse_with_credit_note(document)
    stamped = CfdiDocument.objects.filter(
        source_model=SOURCE_MODEL, source_id=document.pk, status=CfdiDocument.Status.STAMPED
    ).first()
    if stamped is not None and stamped.cancellation_status != CfdiDocument.Cancellation.ACCEPTED:
        # Rule 6: the books follow SAT. Until SAT accepted the CFDI's cancellation the invoice
        # stays, so they never disagree (cancel_invoice_and_cfdi asks SAT first).
        raise DomainError(
            "cfdi_timbrado",
            f"La factura tiene el CFDI {stamped.uuid} vigente ante el SAT: indique el motivo de "
            "cancelación (01, 02, 03 o 04) para cancelarlo primero.",
            status=409,
            uuid=stamped.uuid,
        )
    return _undo_books(document=document, user=user)


NODE_TYPES = {
    DocumentKind.QUOTE: "cotizacion",
    DocumentKind.ORDER: "pedido",
    DocumentKind.REMISSION: "remision",
    DocumentKind.INVOICE: "factura",
}


def _undo_books(*, document: SalesDocument, user=None) -> SalesDocument:
    """Rules 1–5 and 7: undo what the invoice wrote and mark it cancelled (in a business action)."""
    origin = document.origin_reference
    for receivable in Receivable.objects.filter(
        company=document.company, origin=origin, status=Receivable.Status.ACTIVE
    ):
        cancel_receivable(receivable=receivable, user=user, by_owner=True)
    for movement in CashMovement.objects.filter(
        company=document.company, origin=origin, status=CashMovement.Status.ACTIVE
    ).order_by("pk"):
        cancel_cash_movement(movement=movement, user=user, by_owner=True)
    if document.stock_movement_id and document.stock_movement.status != StockMovement.Status.CANCELLED:
        cancel_stock_movement(movement=document.stock_movement, user=user, by_owner=True)
    cancel_entries_for_origin(company=document.company, origin=origin, user=user)
    free_external_cfdis(invoice=document)

    document.status = DocumentStatus.CANCELLED
    document.cancelled_at = timezone.now()
    document.save(update_fields=["status", "cancelled_at"])
    return document


@business_action
def _undo_books_locked(*, document: SalesDocument, user=None) -> None:
    document = (
        SalesDocument.objects.select_for_update(of=("self",)).select_related("company").get(pk=document.pk)
    )
    _undo_books(document=document, user=user)


def _check_books_can_be_undone(document: SalesDocument) -> None:
    """What would stop cancel_invoice, checked before SAT is asked to cancel the CFDI."""
    if document.kind != DocumentKind.INVOICE:
        raise DomainError("no_es_factura", f"{document} no es una factura.")
    if not can_cancel(document):
        raise DomainError("factura_cancelada", "La factura ya está cancelada.", status=409)
    _refuse_with_credit_note(document)
    for receivable in Receivable.objects.filter(
        company=document.company, origin=document.origin_reference, status=Receivable.Status.ACTIVE
    ):
        if not can_cancel_receivable(receivable):
            raise DomainError("cxc_con_registros", CANCEL_WITH_RECORDS_MESSAGE, status=409)


def cancel_stamped_cfdi_first(cfdi: CfdiDocument | None, *, noun: str, motive: str, cancel) -> None:
    """Rule 6 for a posted document with a CFDI (an invoice, a credit note): a stamped CFDI is
    cancelled with SAT first (``cancel``, through the PAC, with SAT's ``motive``), and the books are
    undone only once SAT accepted. A cancellation the receiver must still accept, or that it
    rejected, stops here with a 409 that says so; ``noun`` names the document ("la factura")."""
    if cfdi is None or cfdi.status != CfdiDocument.Status.STAMPED:
        return
    if not motive:
        raise DomainError(
            "motivo_requerido",
            f"{noun[0].upper()}{noun[1:]} tiene el CFDI {cfdi.uuid} timbrado: indique el motivo de "
            "cancelación ante el SAT (01, 02, 03 o 04).",
        )
    cfdi = cancel()
    if cfdi.cancellation_status == CfdiDocument.Cancellation.REQUESTED:
        raise DomainError(
            "cancelacion_solicitada",
            f"Se solicitó al SAT la cancelación del CFDI {cfdi.uuid}; el receptor debe aceptarla. "
            f"Cancele {noun} de nuevo cuando la acepte.",
            status=409,
        )
    if cfdi.cancellation_status == CfdiDocument.Cancellation.REJECTED:
        raise DomainError(
            "cancelacion_rechazada",
            f"El receptor rechazó la cancelación del CFDI {cfdi.uuid}; {noun} sigue vigente.",
            status=409,
        )


def cancel_invoice_and_cfdi(
    *, document: SalesDocument, motive: str = "", substitute_uuid: str = "", user=None
) -> SalesDocument:
    """Cancel an invoice as a user asks for it: its stamped CFDI with SAT first (through the PAC,
    outside any transaction, with SAT's ``motive``), then the books by the seven rules once SAT
    accepted. A cancellation the receiver must still accept leaves the invoice as it is: cancel
    again once accepted (asking again is safe)."""
    _check_books_can_be_undone(document)
    # And everything else that would stop the books (a closed period, goods no longer there…):
    # a dry run of undoing them, rolled back, before SAT is asked.
    dry_run(_undo_books_locked, document=document, user=user)
    cancel_stamped_cfdi_first(
        invoice_cfdi(document),
        noun="la factura",
        motive=motive,
        cancel=lambda: cancel_invoice_cfdi(invoice=document, motive=motive, substitute_uuid=substitute_uuid),
    )
    return cancel_invoice(document=document, user=user)


def _node(kind: str, label: str, status: str, obj=None, children=None) -> dict:
    return {
        "type": kind,
        "id": getattr(obj, "pk", None),
        "label": label,
        "status": status,
        "children": children or [],
    }


def _entry_node(entry: JournalEntry) -> dict:
    return _node(
        "poliza",
        f"Póliza {entry.get_kind_display()} {entry.number} {entry.date:%m/%Y} por {entry.total}",
        entry.get_status_display(),
        entry,
    )


def track_document(document: SalesDocument) -> dict:
    """Rastrear: the document and everything it produced or is linked to, as a tree (for a quote,
    order or remission: the invoices made from it and its stock exit)."""
    children = []
    if document.source_id:
        source = document.source
        children.append(
            _node("origen", f"{source} ({source.origin_reference})", source.get_status_display(), source)
        )
    for invoice in document.generated_documents.order_by("pk"):
        status = str(DocumentStatus(invoice.effective_status).label)
        children.append(_node("factura", f"{invoice} por {invoice.total}", status, invoice))
    for note in document.credit_notes.order_by("pk"):
        children.append(_node("nota_de_credito", f"{note} por {note.total}", note.get_status_display(), note))
    children.extend(
        ledger_nodes(
            company=document.company,
            origin=document.origin_reference,
            stock_movement=document.stock_movement,
            cfdi_source=(SOURCE_MODEL, document.pk),
        )
    )
    for external in document.external_cfdis.all():
        children.append(_node("cfdi_externo", f"CFDI externo {external.uuid}", "Enlazado", external))
    label = f"{document} {document.customer_name} por {document.total}"
    return _node(
        NODE_TYPES[document.kind],
        label,
        str(DocumentStatus(document.effective_status).label),
        document,
        children,
    )


def ledger_nodes(*, company, origin: str, stock_movement, cfdi_source: tuple[str, int]) -> list[dict]:
    """What a sales document (invoice or credit note) wrote, found by its origin: cash and bank
    movements, receivables and their records, its stock movement, pólizas and CFDIs."""
    entries = {e.pk: e for e in JournalEntry.objects.filter(company=company, origin=origin).order_by("pk")}
    children = []
    for movement in CashMovement.objects.filter(company=company, origin=origin).select_related(
        "account", "journal_entry"
    ):
        sub = [_entry_node(movement.journal_entry)] if movement.journal_entry else []
        entries.pop(movement.journal_entry_id, None)
        children.append(
            _node(
                "caja_banco",
                f"{movement.get_kind_display()} {movement.account.code} {movement.amount} {movement.get_method_display()}",
                movement.get_status_display(),
                movement,
                sub,
            )
        )
    for receivable in Receivable.objects.filter(company=company, origin=origin).prefetch_related("records"):
        records = [
            _node("registro_cxc", f"{r.get_kind_display()} {r.amount}", r.get_status_display(), r)
            for r in receivable.records.all()
        ]
        children.append(
            _node(
                "cuenta_por_cobrar",
                f"Cuenta por cobrar {receivable.document_number} saldo {receivable.balance} vence {receivable.due_date:%d/%m/%Y}",
                receivable.get_status_display(),
                receivable,
                records,
            )
        )
    if stock_movement is not None:
        movement = stock_movement
        sub = [_entry_node(movement.journal_entry)] if movement.journal_entry_id else []
        children.append(
            _node(
                "almacen",
                f"{movement.get_kind_display()} {movement.reference}",
                movement.get_status_display(),
                movement,
                sub,
            )
        )
    children.extend(_entry_node(entry) for entry in entries.values())
    source_model, source_id = cfdi_source
    for cfdi in CfdiDocument.objects.filter(source_model=source_model, source_id=source_id).order_by("pk"):
        children.append(_node("cfdi", f"CFDI {cfdi.uuid or 'sin timbrar'}", cfdi.get_status_display(), cfdi))
    return children
