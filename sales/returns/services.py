"""Writes of returns and rebates (the seed's "Devolver y Rebajar Factura"): create one from an
invoice, post it through ``sales.posting`` with the direction reversed, cancel it.

Limits, per invoice line, counting only credit notes that are emitted (a draft takes nothing back):

- a return changes only the quantity, which cannot exceed what was invoiced less what earlier
  returns took back;
- a rebate changes only the unit price (the unit rebate), which cannot exceed the invoice's price
  less earlier unit rebates; its quantity is what the customer still holds (invoiced − returned).

Discount, IVA, IEPS and both retentions follow in proportion because each line is recomputed by
``erp.taxes`` from the invoice line's own rates. Posting re-checks every limit with the invoice
row locked, so two credit notes posted at once cannot together return more than was invoiced.
"""

from dataclasses import dataclass
from datetime import date as date_type
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from accounting.services import cancel_entries_for_origin, require_variables
from accounting.variables import SALES_VARIABLES, Variable
from cashbank.models import CashMovement
from cashbank.services import cancel_cash_movement
from cfdi.models import CfdiDocument
from erp.errors import DomainError
from erp.money import ZERO, to_decimal
from erp.taxes import compute_document
from erp.transactions import business_action, dry_run
from inventory.models import StockMovement
from inventory.services import cancel_stock_movement

from ..cancellation import _node, cancel_stamped_cfdi_first, ledger_nodes
from ..document_models import (
    CUSTOMER_SNAPSHOT,
    DocumentKind,
    DocumentStatus,
    Payment,
    SalesDocument,
    SalesDocumentLine,
    line_tax_fields,
    set_totals,
)
from ..invoice_cfdi import company_can_seal
from ..models import SalesEntity
from ..posting import REVERSAL, Collection, check_collections, move_stock, post_money
from ..receivables.models import Receivable, ReceivableRecord
from ..receivables.services import apply_receivable_record, cancel_receivable_record
from .cfdi import SOURCE_MODEL, cancel_credit_note_cfdi, credit_note_cfdi, free_external_egresos
from .models import CreditNote, CreditNoteLine
from .tasks import seal_credit_note_task

CREDIT_NOTE_SERIES_PREFIX = "NC"


@dataclass(frozen=True)
class CreditLineRequest:
    """One invoice line to return or rebate (by its position on the invoice). A return gives the
    quantity (blank: all that is left), a rebate the unit rebate (blank: the whole price left)."""

    invoice_position: int
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    observations: str = ""


def _live(queryset):
    return queryset.filter(credit_note__status=CreditNote.Status.EMITTED)


def returned_quantities(invoice: SalesDocument) -> dict[int, Decimal]:
    """Invoice line id -> quantity emitted returns took back."""
    rows = (
        _live(
            CreditNoteLine.objects.filter(
                invoice_line__document=invoice, credit_note__kind=CreditNote.Kind.RETURN
            )
        )
        .values("invoice_line")
        .annotate(total=Sum("quantity"))
    )
    return {row["invoice_line"]: row["total"] for row in rows}


def rebated_prices(invoice: SalesDocument) -> dict[int, Decimal]:
    """Invoice line id -> unit price emitted rebates took off."""
    rows = (
        _live(
            CreditNoteLine.objects.filter(
                invoice_line__document=invoice, credit_note__kind=CreditNote.Kind.REBATE
            )
        )
        .values("invoice_line")
        .annotate(total=Sum("unit_price"))
    )
    return {row["invoice_line"]: row["total"] for row in rows}


def can_credit(invoice: SalesDocument) -> bool:
    return invoice.kind == DocumentKind.INVOICE and invoice.status not in (
        DocumentStatus.DRAFT,
        DocumentStatus.CANCELLED,
    )


def _check_invoice(invoice: SalesDocument) -> None:
    if invoice.kind != DocumentKind.INVOICE:
        raise DomainError(
            "no_es_factura", f"{invoice} no es una factura: solo se devuelve o rebaja una factura."
        )
    if invoice.status == DocumentStatus.CANCELLED:
        raise DomainError(
            "factura_cancelada", "La factura está cancelada: no se puede devolver ni rebajar.", status=409
        )
    if not can_credit(invoice):
        raise DomainError(
            "factura_no_agregada", "La factura es un borrador: solo se devuelve o rebaja una factura agregada.",
            status=409,
        )  # fmt: skip


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _credit_lines(
    *, invoice: SalesDocument, kind: str, requests: list[CreditLineRequest] | None, decimals: int
):
    """The credit note's lines and totals from the invoice's, within the seed's limits."""
    invoice_lines = {
        line.position: line for line in invoice.lines.select_related("product").order_by("position")
    }
    if requests is None:  # the template: the invoice's lines as they are
        requests = [CreditLineRequest(invoice_position=p) for p in invoice_lines]
    if not requests:
        raise DomainError("sin_partidas", "La devolución o rebaja debe tener al menos una partida.")
    returned = returned_quantities(invoice)
    rebated = rebated_prices(invoice)
    seen, lines, inputs = set(), [], []
    for position, request in enumerate(requests, start=1):
        source: SalesDocumentLine | None = invoice_lines.get(request.invoice_position)
        if source is None:
            raise DomainError(
                "partida_inexistente", f"La factura no tiene la partida {request.invoice_position}."
            )
        if source.pk in seen:
            raise DomainError(
                "partida_repetida", f"La partida {request.invoice_position} de la factura aparece dos veces."
            )
        seen.add(source.pk)
        label = f"Partida {request.invoice_position} ({source.code})"
        left_quantity = source.quantity - returned.get(source.pk, ZERO)
        if kind == CreditNote.Kind.RETURN:
            if request.unit_price is not None and to_decimal(request.unit_price) != source.unit_price:
                raise DomainError(
                    "precio_no_editable", f"{label}: en devoluciones, este precio no puede cambiar."
                )
            quantity = left_quantity if request.quantity is None else to_decimal(request.quantity)
            price = source.unit_price
            if quantity <= 0 and request.quantity is not None:
                raise DomainError("cantidad_invalida", f"{label}: la cantidad debe ser mayor que cero.")
            if quantity > left_quantity or quantity <= 0:
                raise DomainError(
                    "cantidad_excede_factura",
                    f"{label}: la cantidad devuelta ({_qty(quantity)}) no debe ser mayor a la cantidad de la "
                    f"factura asociada ({_qty(source.quantity)}) menos lo ya devuelto "
                    f"({_qty(source.quantity - left_quantity)}).",
                    available=str(left_quantity),
                )
        else:
            if request.quantity is not None and to_decimal(request.quantity) != left_quantity:
                raise DomainError(
                    "cantidad_no_editable", f"{label}: en rebajas, esta cantidad no puede cambiar."
                )
            quantity = left_quantity
            left_price = source.unit_price - rebated.get(source.pk, ZERO)
            price = left_price if request.unit_price is None else to_decimal(request.unit_price)
            if price <= 0 and request.unit_price is not None:
                raise DomainError("precio_invalido", f"{label}: el precio a rebajar debe ser mayor que cero.")
            if quantity <= 0:
                raise DomainError(
                    "partida_devuelta", f"{label}: toda la cantidad de esta partida ya fue devuelta."
                )
            if price > left_price or price <= 0:
                raise DomainError(
                    "precio_excede_factura",
                    f"{label}: el descuento unitario ({price}) no debe ser mayor al precio establecido en la "
                    f"factura asociada ({source.unit_price}) menos lo ya rebajado ({source.unit_price - left_price}).",
                    available=str(left_price),
                )
        line = CreditNoteLine(
            position=position,
            invoice_line=source,
            product=source.product,
            code=source.code,
            unit=source.unit,
            description=source.description,
            quantity=quantity,
            unit_price=price,
            discount_rate=source.discount_rate,
            observations=request.observations,
            **line_tax_fields(source),
        )
        lines.append(line)
        inputs.append(line.tax_input(decimals))
    totals = compute_document(inputs, decimals)
    for line, taxes in zip(lines, totals.lines, strict=True):
        line.set_amounts(taxes)
    return lines, totals


def _check_total(invoice: SalesDocument, total: Decimal, exclude_pk=None) -> None:
    """Together, the emitted credit notes never give back more than the invoice's total."""
    credited = (
        invoice.credit_notes.filter(status=CreditNote.Status.EMITTED)
        .exclude(pk=exclude_pk)
        .aggregate(total=Sum("total"))["total"]
        or ZERO
    )
    if credited + total > invoice.total:
        raise DomainError(
            "excede_total_factura",
            f"La devolución o rebaja por {total} más las anteriores ({credited}) excede el total de la "
            f"factura ({invoice.total}).",
        )


def prepare_credit_note(
    *,
    invoice: SalesDocument,
    kind: str,
    date: date_type,
    lines: list[CreditLineRequest] | None = None,
    reference: str = "",
    delivery_date: date_type | None = None,
    exchange_rate: Decimal | None = None,
    observations: str = "",
) -> tuple[CreditNote, list[CreditNoteLine]]:
    """The credit note as the screen shows it while the user edits the template; saves nothing."""
    _check_invoice(invoice)
    if kind not in CreditNote.Kind.values:
        raise DomainError("tipo_invalido", "Indique si es una devolución o una rebaja.")
    if date < invoice.date:
        raise DomainError("fecha_invalida", "La devolución o rebaja no puede ser anterior a la factura.")
    if delivery_date and delivery_date < date:
        raise DomainError("fecha_entrega_invalida", "La fecha de entrega no puede ser anterior a la fecha.")
    rate = invoice.exchange_rate
    if not invoice.currency.is_national and exchange_rate is not None:
        rate = to_decimal(exchange_rate)
        if rate <= 0:
            raise DomainError("tipo_cambio_invalido", "El tipo de cambio debe ser mayor que cero.")
    line_rows, totals = _credit_lines(
        invoice=invoice, kind=kind, requests=lines, decimals=invoice.currency.decimals
    )
    _check_total(invoice, totals.total)
    note = CreditNote(
        company_id=invoice.company_id,
        kind=kind,
        invoice=invoice,
        entity=invoice.entity,
        series=f"{CREDIT_NOTE_SERIES_PREFIX}{invoice.entity.series}",
        reference=reference,
        date=date,
        delivery_date=delivery_date or date,
        payment=invoice.payment,
        currency=invoice.currency,
        exchange_rate=rate,
        warehouse=invoice.warehouse,
        observations=observations,
    )
    note.customer = invoice.customer
    for name in CUSTOMER_SNAPSHOT:
        setattr(note, f"customer_{name}", getattr(invoice, f"customer_{name}"))
    set_totals(note, totals)
    return note, line_rows


@business_action
def create_credit_note(*, user=None, **data) -> CreditNote:
    """Save a draft return or rebate of ``invoice`` (the arguments of ``prepare_credit_note``)."""
    note, line_rows = prepare_credit_note(**data)
    note.created_by = user
    note.save()
    for line in line_rows:
        line.credit_note = note
    CreditNoteLine.objects.bulk_create(line_rows)
    return note


def can_post(note: CreditNote) -> bool:
    return note.status == CreditNote.Status.DRAFT


def _take_number(note: CreditNote) -> int:
    """The entity's credit-note consecutive, under the entity's row lock (no gap, no duplicate)."""
    SalesEntity.objects.select_for_update().filter(pk=note.entity_id).values_list("pk", flat=True).get()
    last = CreditNote.objects.filter(entity=note.entity_id).aggregate(last=Max("number"))["last"]
    return (last or 0) + 1


def _exit_costs(invoice: SalesDocument) -> dict[int, Decimal]:
    """Product id -> the unit cost the goods left with: the invoice's stock exit, or its
    remission's when the invoice came from one (seed D.4)."""
    movement = invoice.stock_movement
    if movement is None and invoice.source_id and invoice.source.kind == DocumentKind.REMISSION:
        movement = invoice.source.stock_movement
    if movement is None:
        return {}
    return {line.product_id: line.unit_cost for line in movement.lines.all()}


def _return_goods(note: CreditNote) -> list[dict]:
    """D) what enters the warehouse: the goods of a return (never a rebate, never services), none
    when the entity keeps no stock movements; at the cost they left with."""
    if note.kind != CreditNote.Kind.RETURN or note.entity.no_stock_movements or note.warehouse_id is None:
        return []
    goods = [line for line in note.lines.select_related("product") if not line.product.is_service]
    if not goods:
        return []
    exit_ = note.invoice.stock_movement
    if exit_ is not None and exit_.status in (StockMovement.Status.REVERTED, StockMovement.Status.CANCELLED):
        raise DomainError(
            "salida_revertida",
            f"La salida del almacén de la factura está {exit_.get_status_display().lower()}: no hay mercancía "
            "que devolver.",
            status=409,
        )
    costs = _exit_costs(note.invoice)
    missing = [line.code for line in goods if line.product_id not in costs]
    if missing:
        raise DomainError(
            "sin_salida",
            f"No se encontró la salida del almacén de {', '.join(missing)} en la factura: no se puede "
            "determinar el costo de la entrada.",
        )
    return [{"product": g.product, "quantity": g.quantity, "unit_cost": costs[g.product_id]} for g in goods]


def _receivable_of(invoice: SalesDocument) -> Receivable:
    receivable = Receivable.objects.filter(
        company_id=invoice.company_id, origin=invoice.origin_reference, status=Receivable.Status.ACTIVE
    ).first()
    if receivable is None:
        raise DomainError(
            "factura_sin_cxc", "La factura de crédito no tiene una cuenta por cobrar vigente.", status=409
        )
    return receivable


@business_action
def post_credit_note(
    *, credit_note: CreditNote, collections: list[Collection] | None = None, user=None
) -> CreditNote:
    """Post a draft return or rebate: number it and write, as the seed's A–D in reverse, its
    withdrawals (contado) or the balance record on the invoice's receivable (crédito), its
    pólizas, and the goods' re-entry (returns); then ask for its egreso CFDI after commit."""
    note = (
        CreditNote.objects.select_for_update(of=("self",))
        .select_related("entity", "company", "currency", "warehouse__inventory_account", "invoice")
        .get(pk=credit_note.pk)
    )
    if not can_post(note):
        raise DomainError(
            "no_se_puede_contabilizar",
            f"La devolución o rebaja está {note.get_status_display().lower()}: solo se agrega un borrador.",
            status=409,
        )
    # The invoice's row lock serializes its credit notes: the limits are checked again under it.
    invoice = (
        SalesDocument.objects.select_for_update(of=("self",))
        .select_related("currency")
        .get(pk=note.invoice_id)
    )
    _check_invoice(invoice)
    requests = [
        CreditLineRequest(
            invoice_position=line.invoice_line.position,
            quantity=line.quantity if note.kind == CreditNote.Kind.RETURN else None,
            unit_price=line.unit_price if note.kind == CreditNote.Kind.REBATE else None,
        )
        for line in note.lines.select_related("invoice_line")
    ]
    _credit_lines(invoice=invoice, kind=note.kind, requests=requests, decimals=invoice.currency.decimals)
    _check_total(invoice, note.total, exclude_pk=note.pk)
    accounts = require_variables(company=note.company, names=SALES_VARIABLES)
    if note.payment == Payment.CASH:
        check_collections(note, collections or [], REVERSAL)
    elif collections:
        raise DomainError(
            "retiro_no_aplica",
            "Solo las devoluciones o rebajas de facturas de contado se pagan con caja o banco.",
        )
    receivable = _receivable_of(invoice) if note.payment == Payment.CREDIT else None
    goods = _return_goods(note)
    can_seal = company_can_seal(note.company)
    note.number = _take_number(note)

    if receivable is not None:
        # B) a balance record on the invoice's receivable; the diario below is its póliza.
        apply_receivable_record(
            receivable=receivable,
            kind=ReceivableRecord.Kind.ADJUSTMENT,
            date=note.date,
            amount=note.total,
            reference=f"{note.series}{note.number}",
            origin=note.origin_reference,
            user=user,
        )
    post_money(
        document=note,
        collections=collections,
        accounts=accounts,
        user=user,
        direction=REVERSAL,
        # The receivable, and so the customers account, holds the invoice at the invoice's rate.
        counterpart_rate=receivable.exchange_rate if receivable is not None else None,
    )
    note.stock_movement = move_stock(
        document=note,
        goods=goods,
        cost_account=accounts[Variable.COST_OF_SALES],
        user=user,
        direction=REVERSAL,
    )
    note.status = CreditNote.Status.EMITTED
    note.posted_at = timezone.now()
    note.save(update_fields=["number", "status", "posted_at", "stock_movement"])
    if can_seal:
        transaction.on_commit(partial(seal_credit_note_task.delay, note.pk), robust=True)
    return note


def can_cancel(note: CreditNote) -> bool:
    return note.status != CreditNote.Status.CANCELLED


@business_action
def cancel_credit_note(*, credit_note: CreditNote, user=None) -> CreditNote:
    """Cancel a return or rebate and undo everything it posted: its balance record on the
    receivable, its withdrawals, its stock entry and cost póliza, every póliza tied to it. Its
    stamped CFDI must have been cancelled with SAT first (``cancel_credit_note_and_cfdi``)."""
    note = (
        CreditNote.objects.select_for_update(of=("self",))
        .select_related("company", "entity")
        .get(pk=credit_note.pk)
    )
    if not can_cancel(note):
        raise DomainError("nota_cancelada", "La devolución o rebaja ya está cancelada.", status=409)
    stamped = credit_note_cfdi(note)
    if (
        stamped is not None
        and stamped.status == CfdiDocument.Status.STAMPED
        and stamped.cancellation_status != CfdiDocument.Cancellation.ACCEPTED
    ):
        raise DomainError(
            "cfdi_timbrado",
            f"La nota de crédito tiene el CFDI {stamped.uuid} vigente ante el SAT: indique el motivo de "
            "cancelación (01, 02, 03 o 04) para cancelarlo primero.",
            status=409,
            uuid=stamped.uuid,
        )
    return _undo_books(note=note, user=user)


def _undo_books(*, note: CreditNote, user=None) -> CreditNote:
    """Undo everything the credit note posted and mark it cancelled (inside a business action)."""
    origin = note.origin_reference
    for record in ReceivableRecord.objects.filter(
        company=note.company, origin=origin, status=ReceivableRecord.Status.ACTIVE
    ).order_by("pk"):
        cancel_receivable_record(record=record, user=user, by_owner=True)
    for movement in CashMovement.objects.filter(
        company=note.company, origin=origin, status=CashMovement.Status.ACTIVE
    ).order_by("pk"):
        cancel_cash_movement(movement=movement, user=user, by_owner=True)
    if note.stock_movement_id and note.stock_movement.status != StockMovement.Status.CANCELLED:
        cancel_stock_movement(movement=note.stock_movement, user=user, by_owner=True)
    cancel_entries_for_origin(company=note.company, origin=origin, user=user)
    free_external_egresos(credit_note=note)
    note.status = CreditNote.Status.CANCELLED
    note.cancelled_at = timezone.now()
    note.save(update_fields=["status", "cancelled_at"])
    return note


@business_action
def _check_books_can_be_undone(*, credit_note: CreditNote, user=None) -> None:
    note = (
        CreditNote.objects.select_for_update(of=("self",))
        .select_related("company", "entity")
        .get(pk=credit_note.pk)
    )
    _undo_books(note=note, user=user)


def cancel_credit_note_and_cfdi(
    *, credit_note: CreditNote, motive: str = "", substitute_uuid: str = "", user=None
) -> CreditNote:
    """Cancel a return or rebate as a user asks for it (as invoice rule 6): its stamped egreso with
    SAT first, outside any transaction, then the books once SAT accepted."""
    if not can_cancel(credit_note):
        raise DomainError("nota_cancelada", "La devolución o rebaja ya está cancelada.", status=409)
    # What would stop the local cancellation (a closed period, goods already sold again…) stops
    # it before SAT is asked: a dry run of it, rolled back.
    dry_run(_check_books_can_be_undone, credit_note=credit_note, user=user)
    cancel_stamped_cfdi_first(
        credit_note_cfdi(credit_note),
        noun="la nota de crédito",
        motive=motive,
        cancel=lambda: cancel_credit_note_cfdi(
            credit_note=credit_note, motive=motive, substitute_uuid=substitute_uuid
        ),
    )
    return cancel_credit_note(credit_note=credit_note, user=user)


def track_credit_note(note: CreditNote) -> dict:
    """Rastrear: the credit note, its invoice and everything it wrote, as a tree."""
    invoice = note.invoice
    children = [
        _node(
            "factura",
            f"{invoice} {invoice.customer_name} por {invoice.total}",
            invoice.get_status_display(),
            invoice,
        )
    ]
    children.extend(
        ledger_nodes(
            company=note.company,
            origin=note.origin_reference,
            stock_movement=note.stock_movement,
            cfdi_source=(SOURCE_MODEL, note.pk),
        )
    )
    label = f"{note} {note.customer_name} por {note.total}"
    return _node("nota_de_credito", label, note.get_status_display(), note, children)
