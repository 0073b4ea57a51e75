"""Writes of receivables: open one per credit document, apply and cancel records, cancel it."""

from datetime import date as Date
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from cashbank.models import CashMovement
from erp.errors import DomainError
from erp.models import Currency
from erp.money import quantize, to_decimal
from erp.ownership import refuse_if_owned
from erp.transactions import business_action

from ..models import Customer
from ..returns.models import ORIGIN_MODULE as CREDIT_NOTE_MODULE
from .models import Receivable, ReceivableRecord

ADJUSTMENT_NEEDS_CREDIT_NOTE = (
    "Un saldo por devolución o rebaja se registra con una devolución o rebaja sobre la factura "
    "(Devoluciones sobre ventas), que genera su póliza y su CFDI de egreso."
)
CANCEL_WITH_RECORDS_MESSAGE = (
    "No se puede cancelar la cuenta por cobrar porque tiene registros de pago, saldo o aplicación de "
    "anticipos. Cancele primero estos registros."
)


@business_action
def open_receivable(
    *,
    company,
    customer: Customer,
    date: Date,
    amount,
    currency: Currency,
    document_number: str,
    document_type: str = "factura",
    exchange_rate=1,
    origin: str = "",
    due_date: Date | None = None,
    user=None,
) -> Receivable:
    """A receivable for a credit document, due after the customer's credit days."""
    if customer.company_id != company.pk:
        raise DomainError("cliente_invalido", "El cliente es de otra empresa.")
    if customer.is_counter:
        raise DomainError(
            "credito_a_mostrador", "No se puede dar crédito al cliente de mostrador (cliente cero)."
        )
    amount = quantize(amount)
    if amount <= 0:
        raise DomainError("importe_invalido", "El importe de la cuenta por cobrar debe ser mayor que cero.")
    rate = to_decimal(exchange_rate)
    if rate <= 0 or (currency.is_national and rate != 1):
        raise DomainError("tipo_cambio_invalido", "El tipo de cambio no es válido para la moneda.")
    if not currency.is_national and rate == 1:
        raise DomainError("tipo_cambio_requerido", f"Indique el tipo de cambio de {currency.code}.")
    if due_date is None:
        try:
            due_date = date + timedelta(days=customer.credit_days)
        except OverflowError as exc:  # a value stored before credit days were bounded
            raise DomainError(
                "dias_credito_invalidos",
                f"Los días de crédito del cliente ({customer.credit_days}) llevan el vencimiento fuera "
                "del calendario: corrija los días de crédito del cliente.",
            ) from exc
    if due_date < date:
        raise DomainError("vencimiento_invalido", "El vencimiento no puede ser anterior a la fecha.")
    return Receivable.objects.create(
        company=company,
        customer=customer,
        document_type=document_type,
        document_number=str(document_number),
        origin=origin,
        date=date,
        due_date=due_date,
        currency=currency,
        exchange_rate=rate,
        amount=amount,
        balance=amount,
        created_by=user,
    )


def _lock(receivable: Receivable) -> Receivable:
    return Receivable.objects.select_for_update().get(pk=receivable.pk)


@business_action
def apply_receivable_record(
    *,
    receivable: Receivable,
    kind: str,
    date: Date,
    amount,
    reference: str = "",
    origin: str = "",
    cash_movement: CashMovement | None = None,
    user=None,
) -> ReceivableRecord:
    """Apply a payment, a balance adjustment or an advance; it lowers the open balance."""
    receivable = _lock(receivable)
    if receivable.status != Receivable.Status.ACTIVE:
        raise DomainError("cxc_cancelada", "La cuenta por cobrar está cancelada.", status=409)
    if kind not in ReceivableRecord.Kind.values:
        raise DomainError(
            "registro_invalido", "El registro es un pago, un saldo o una aplicación de anticipo."
        )
    if kind == ReceivableRecord.Kind.ADJUSTMENT and not origin.startswith(f"{CREDIT_NOTE_MODULE}|"):
        # A balance record written alone would lower the receivable with no póliza and no CFDI, and
        # the receivable ledger and the books would drift apart: only a credit note writes one.
        raise DomainError("saldo_sin_nota_de_credito", ADJUSTMENT_NEEDS_CREDIT_NOTE)
    amount = quantize(amount)
    if amount <= 0:
        raise DomainError("importe_invalido", "El importe del registro debe ser mayor que cero.")
    if amount > receivable.balance:
        raise DomainError(
            "importe_excede_saldo",
            f"El importe {amount:,.2f} excede el saldo de la cuenta por cobrar ({receivable.balance:,.2f}).",
            balance=str(receivable.balance),
        )
    if date < receivable.date:
        raise DomainError("fecha_invalida", "El registro no puede ser anterior a la cuenta por cobrar.")
    if cash_movement is not None and cash_movement.company_id != receivable.company_id:
        raise DomainError("movimiento_invalido", "El movimiento de caja es de otra empresa.")
    record = ReceivableRecord.objects.create(
        company_id=receivable.company_id,
        receivable=receivable,
        kind=kind,
        date=date,
        amount=amount,
        reference=reference,
        origin=origin,
        cash_movement=cash_movement,
        created_by=user,
    )
    Receivable.objects.filter(pk=receivable.pk).update(balance=F("balance") - amount)
    return record


@business_action
def cancel_receivable_record(
    *, record: ReceivableRecord, user=None, by_owner: bool = False
) -> ReceivableRecord:
    """Cancel a record: its amount goes back to the open balance."""
    receivable = _lock(record.receivable)
    record = ReceivableRecord.objects.select_for_update().get(pk=record.pk)
    if record.status != ReceivableRecord.Status.ACTIVE:
        raise DomainError("registro_cancelado", "El registro ya está cancelado.", status=409)
    refuse_if_owned(origin=record.origin, what="Este registro", by_owner=by_owner)
    record.status = ReceivableRecord.Status.CANCELLED
    record.cancelled_at = timezone.now()
    record.cancelled_by = user
    record.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    Receivable.objects.filter(pk=receivable.pk).update(balance=F("balance") + record.amount)
    return record


def can_cancel_receivable(receivable: Receivable) -> bool:
    return (
        receivable.status == Receivable.Status.ACTIVE
        and not receivable.records.filter(status=ReceivableRecord.Status.ACTIVE).exists()
    )


@business_action
def cancel_receivable(*, receivable: Receivable, user=None, by_owner: bool = False) -> Receivable:
    """Cancel a receivable, only when no payment, balance or advance record is applied (seed rule 3);
    one a document wrote is cancelled only by that document (erp.ownership)."""
    receivable = _lock(receivable)
    if receivable.status != Receivable.Status.ACTIVE:
        raise DomainError("cxc_cancelada", "La cuenta por cobrar ya está cancelada.", status=409)
    refuse_if_owned(origin=receivable.origin, what="Esta cuenta por cobrar", by_owner=by_owner)
    if not can_cancel_receivable(receivable):
        raise DomainError("cxc_con_registros", CANCEL_WITH_RECORDS_MESSAGE, status=409)
    receivable.status = Receivable.Status.CANCELLED
    receivable.cancelled_at = timezone.now()
    receivable.cancelled_by = user
    receivable.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    return receivable
