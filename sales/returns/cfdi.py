"""A credit note as the CFDI engine sees it: an egreso related to its invoice's UUID.

- TipoRelacion "03" (devolución de mercancías) for a return, "01" (nota de crédito de los
  documentos relacionados) for a rebate, each to the invoice's stamped UUID (or to the UUID of
  the CFDI stamped elsewhere and linked to the invoice).
- MetodoPago PUE: SAT's guide (Anexo 20, CFDI 4.0) has an egreso always "PUE"; it is settled
  when issued, by a refund or by lowering what the customer owes.
- FormaPago, the form that settles it: a contado invoice's credit note is paid back by the
  withdrawals, so the method of the largest one; a crédito (PPD) invoice's lowers the balance
  owed, "17" (Compensación); with no payment method, the customer's usual form (the invoice's).
- UsoCFDI "G02" (devoluciones, descuentos o bonificaciones) when the receiver's régimen admits
  it, else the invoice's (público en general keeps S01).

Sealing, stamping, printing, mailing and cancelling are the CFDI engine's, as for invoices.
"""

from functools import partial

from django.db import transaction
from django.utils import timezone

from cashbank.models import CashMovement
from cfdi.description import FiscalDocument, Related
from cfdi.models import CfdiDocument
from cfdi.selectors import cfdi_columns
from cfdi.services import cancel_cfdi, issue_cfdi, issuer_for, send_cfdi, stamp_cfdi
from cfdi.tasks import deliver
from erp import sat_catalogs
from erp.errors import DomainError
from erp.transactions import business_action

from ..cfdi_mapping import concepts_for, receiver_for
from ..document_models import Payment
from ..external_cfdi import WRONG_TYPE_MESSAGE, related_uuids
from ..external_models import ExternalCfdi
from ..invoice_cfdi import invoice_cfdi
from .models import CreditNote

SOURCE_MODEL = "sales.creditnote"
RELATION = {CreditNote.Kind.RETURN: "03", CreditNote.Kind.REBATE: "01"}
COMPENSATION = "17"
RETURNS_USE = "G02"


def credit_note_cfdi(note: CreditNote) -> CfdiDocument | None:
    """The credit note's most advanced CFDI: stamped if any, else the last sealed attempt."""
    documents = CfdiDocument.objects.filter(source_model=SOURCE_MODEL, source_id=note.pk)
    return (
        documents.filter(status=CfdiDocument.Status.STAMPED).first()
        or documents.filter(status=CfdiDocument.Status.SEALED).order_by("-pk").first()
    )


def invoice_uuid(note: CreditNote) -> str:
    """The UUID the egreso relates to: the invoice's own stamped CFDI, or the one linked to it."""
    own = invoice_cfdi(note.invoice)
    if own is not None and own.status == CfdiDocument.Status.STAMPED and own.uuid:
        return own.uuid
    external = ExternalCfdi.objects.filter(invoice=note.invoice_id).values_list("uuid", flat=True).first()
    if external:
        return external
    raise DomainError(
        "factura_sin_cfdi",
        "La factura no tiene un CFDI timbrado: la nota de crédito se relaciona con el UUID de la factura; "
        "selle primero la factura.",
        status=409,
    )


def _payment_form(note: CreditNote) -> str:
    if note.payment == Payment.CASH:
        largest = (
            CashMovement.objects.filter(origin=note.origin_reference, kind=CashMovement.Kind.WITHDRAWAL)
            .order_by("-document_amount")
            .values_list("method", flat=True)
            .first()
        )
        return largest or "01"
    if note.payment == Payment.CREDIT:
        return COMPENSATION
    return note.customer.forma_pago


def fiscal_document_for(note: CreditNote) -> FiscalDocument:
    """The egreso's fiscal description, mapped by the invoices' own helpers (receiver, concepts
    with every tax field of the lines)."""
    place_of_issue = note.entity.place_of_issue
    uso = (
        RETURNS_USE if sat_catalogs.uso_cfdi_admits_regimen(RETURNS_USE, note.customer_regimen_fiscal) else ""
    )
    return FiscalDocument(
        issuer=issuer_for(note.company, place_of_issue=place_of_issue),
        receiver=receiver_for(note, place_of_issue=place_of_issue, uso_cfdi=uso),
        concepts=concepts_for(note.lines),
        doc_type="E",
        series=note.series,
        folio=str(note.number),
        issued_at=timezone.now(),
        credit=False,  # PUE
        payment_form=_payment_form(note),
        currency=note.currency.code,
        exchange_rate=None if note.currency.is_national else note.exchange_rate,
        related=(Related(RELATION[note.kind], (invoice_uuid(note),)),),
    )


def cfdi_column(note_ids: list[int]) -> dict[int, str]:
    """The list's CFDI column (---, TFD, PDF) for these credit notes, in two queries: their own
    CFDIs, and egresos stamped elsewhere and linked to them."""
    columns = cfdi_columns(SOURCE_MODEL, note_ids)
    for note_id, pdf in ExternalCfdi.objects.filter(credit_note__in=note_ids).values_list(
        "credit_note", "pdf"
    ):
        columns[note_id] = "PDF" if pdf else "TFD"
    return columns


def linked_external(note: CreditNote) -> ExternalCfdi | None:
    """The egreso stamped elsewhere and linked to the credit note, if any."""
    return ExternalCfdi.objects.filter(credit_note=note.pk).defer("xml").first()


@business_action
def link_external_egreso(*, credit_note: CreditNote, external: ExternalCfdi) -> ExternalCfdi:
    """Enlazar a devolución o rebaja: an egreso stamped by another PAC and loaded to the entity
    (the external-CFDI load) stands for the credit note's CFDI, by the rules that link an
    ingreso to an invoice; it must also relate to the invoice's UUID, as the egreso it replaces."""
    note = (
        CreditNote.objects.select_for_update(of=("self",))
        .select_related("customer", "invoice")
        .get(pk=credit_note.pk)
    )
    external = ExternalCfdi.objects.select_for_update().get(pk=external.pk)
    if external.entity_id != note.entity_id:
        raise DomainError("cfdi_otra_entidad", "El CFDI se cargó a otra entidad de venta.")
    if external.doc_type != "E":
        raise DomainError("cfdi_tipo_incorrecto", WRONG_TYPE_MESSAGE)
    if note.status != CreditNote.Status.EMITTED:
        raise DomainError(
            "nota_no_enlazable",
            f"La devolución o rebaja está {note.get_status_display().lower()}: solo se enlaza una agregada y "
            "vigente.",
            status=409,
        )
    if external.invoice_id is not None or external.credit_note_id is not None:
        linked_to = external.invoice or external.credit_note
        raise DomainError("cfdi_ya_enlazado", f"El CFDI ya está enlazado a {linked_to}.", status=409)
    own = credit_note_cfdi(note)
    if note.external_cfdis.exists() or (own is not None and own.status == CfdiDocument.Status.STAMPED):
        raise DomainError(
            "nota_ya_enlazada",
            "La devolución o rebaja ya tiene un documento fiscal; solo se enlaza uno.",
            status=409,
        )
    if note.customer.is_counter:
        raise DomainError(
            "cfdi_mostrador", "No se pueden enlazar CFDIs a ventas de mostrador (cliente cero)."
        )
    if external.receiver_rfc != note.customer_rfc:
        raise DomainError(
            "cfdi_otro_receptor",
            f"El RFC del receptor del CFDI ({external.receiver_rfc}) no es el del cliente de la devolución o "
            f"rebaja ({note.customer_rfc}).",
        )
    if external.total != note.total:
        raise DomainError(
            "cfdi_total_distinto",
            f"El total en el CFDI no corresponde al total de la devolución o rebaja. No se puede enlazar. "
            f"DOC: {note.total} XML: {external.total}",
        )
    uuid = invoice_uuid(note).upper()
    relations = related_uuids(bytes(external.xml))
    if not any(related == uuid and kind in RELATION.values() for kind, related in relations):
        raise DomainError(
            "cfdi_sin_relacion",
            f"El CFDI no se relaciona con la factura {uuid} (CfdiRelacionados con TipoRelacion 01 o 03): "
            "no es el egreso de esta devolución o rebaja.",
        )
    external.credit_note = note
    external.save(update_fields=["credit_note"])
    return external


def free_external_egresos(*, credit_note: CreditNote) -> int:
    """As invoice cancellation rule 7: egresos linked to a cancelled credit note can be linked again."""
    return ExternalCfdi.objects.filter(credit_note=credit_note).update(credit_note=None)


def can_seal(note: CreditNote) -> bool:
    return note.status == CreditNote.Status.EMITTED


def seal_credit_note(*, credit_note: CreditNote) -> CfdiDocument:
    """Seal and stamp the credit note's egreso. Safe to repeat, as for invoices: a stamped CFDI is
    returned as is, a sealed one the PAC did not stamp is sent again, never sealed twice."""
    note = CreditNote.objects.select_related("company", "entity", "customer", "currency", "invoice").get(
        pk=credit_note.pk
    )
    if not can_seal(note):
        raise DomainError(
            "nota_no_sellable",
            f"La devolución o rebaja está {note.get_status_display().lower()}: solo se sella una agregada.",
            status=409,
        )
    linked = linked_external(note)
    if linked is not None:
        raise DomainError(
            "nota_con_cfdi_externo",
            f"La devolución o rebaja está enlazada al CFDI externo {linked.uuid}: no se sella otro.",
            status=409,
        )
    existing = credit_note_cfdi(note)
    try:
        if existing is not None:
            document = stamp_cfdi(document=existing)
        else:
            document = issue_cfdi(
                company=note.company,
                document=fiscal_document_for(note),
                source_model=SOURCE_MODEL,
                source_id=note.pk,
            )
    except DomainError as error:
        CreditNote.objects.filter(pk=note.pk).update(cfdi_error=f"{error.code}: {error.message}"[:1000])
        raise
    CreditNote.objects.filter(pk=note.pk).update(cfdi_error="")
    return document


def seal_and_deliver(*, credit_note: CreditNote) -> CfdiDocument:
    """ "Sellar": seal and stamp now, then print and e-mail after commit."""
    document = seal_credit_note(credit_note=credit_note)
    if not document.pdf:
        transaction.on_commit(partial(deliver, document.pk), robust=True)
    return document


def stamped_cfdi(note: CreditNote) -> CfdiDocument:
    document = credit_note_cfdi(note)
    if document is None or document.status != CfdiDocument.Status.STAMPED:
        raise DomainError(
            "nota_sin_cfdi",
            "La devolución o rebaja no tiene un CFDI timbrado: use «Sellar» primero.",
            status=409,
        )
    return document


def send_credit_note_cfdi(*, credit_note: CreditNote, to: list[str] | None = None) -> CfdiDocument:
    return send_cfdi(document=stamped_cfdi(credit_note), to=to or None, force=True)


def cancel_credit_note_cfdi(
    *, credit_note: CreditNote, motive: str, substitute_uuid: str = ""
) -> CfdiDocument | None:
    """The credit note's stamped egreso cancelled before SAT (None: nothing reached SAT)."""
    document = credit_note_cfdi(credit_note)
    if document is None or document.status != CfdiDocument.Status.STAMPED:
        return None
    return cancel_cfdi(document=document, motive=motive, substitute_uuid=substitute_uuid)
