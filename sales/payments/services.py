"""Writes of customer payments: create (draft), preview, post, cancel, and the complement.

Posting a payment is the seed's collection path A applied to receivables, in one transaction:
1) one deposit into the cash or bank account (its SAT data for electronic accounting);
2) one payment record per invoice on its receivable (balance under the receivable's row lock);
3) for contable entities, one póliza de ingresos: the deposit (debit, national currency) against
   customers (credit, at each invoice's rate), the exchange difference when the rates differ,
   and, when the chart has SAT's accounts 209.01 and 208.01, the IVA collected moved from
   "IVA trasladado no cobrado" to "IVA trasladado cobrado" (IVA is due when collected, LIVA 1-B);
4) after commit, the payment complement (CFDI type P) of the invoices stamped as PPD is issued
   through the CFDI engine, printed and mailed (exactly once: a sealed complement is stamped
   again as it is, never sealed twice).

Every record points back at the payment through its origin "VPAG|ID|Entidad||".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone

from accounting.models import JournalEntry
from accounting.services import (
    account_by_sat_code,
    cancel_entries_for_origin,
    exchange_difference_line,
    post_journal_entry,
    require_variables,
)
from accounting.variables import Variable
from cashbank.models import PaymentMethod
from cashbank.services import (
    cancel_cash_movement,
    cash_journal_line,
    create_cash_movement,
    link_movements_to_entry,
)
from cfdi import payments as cfdi_payments
from cfdi.checker import BENEFICIARY_FORMS as BANK_BENEFICIARY_FORMS
from cfdi.checker import ORDERING_FORMS as BANK_ORDERING_FORMS
from cfdi.models import CfdiDocument
from cfdi.services import cancel_cfdi
from erp.errors import DomainError
from erp.money import ZERO, quantize, to_decimal
from erp.transactions import business_action, dry_run

from ..document_models import DocumentKind, DocumentStatus, Payment, SalesDocument
from ..invoice_cfdi import company_can_seal
from ..receivables.models import Receivable, ReceivableRecord
from ..receivables.services import apply_receivable_record, cancel_receivable_record
from .complement import equivalence, needs_complement, paid_document, payment_cfdi, stamped_invoice_cfdi
from .models import AdvanceApplication, CustomerAdvance, CustomerPayment, PaymentApplication
from .tasks import issue_complement_task

PUE_MESSAGE = "La factura {number} es de contado (PUE): se cobró al agregarla y no lleva complemento de pago."
IVA_COLLECTED = "208.01"  # SAT's código agrupador: IVA trasladado cobrado
IVA_NOT_COLLECTED = "209.01"  # IVA trasladado no cobrado


@dataclass(frozen=True)
class Application:
    invoice: SalesDocument
    amount: Decimal


def _method(payment_form: str) -> str:
    return payment_form if payment_form in PaymentMethod.values else PaymentMethod.OTHER


def _receivable(invoice: SalesDocument, *, lock: bool = False) -> Receivable | None:
    queryset = Receivable.objects.filter(
        company=invoice.company_id, origin=invoice.origin_reference, status=Receivable.Status.ACTIVE
    )
    if lock:
        queryset = queryset.select_for_update()
    return queryset.first()


def _in_payment_currency(payment: CustomerPayment, invoice: SalesDocument, amount: Decimal) -> Decimal:
    """An amount of the invoice's currency expressed in the payment's."""
    return amount / equivalence(payment, invoice)


def _check_invoice(payment: CustomerPayment, invoice: SalesDocument) -> Receivable:
    number = f"{invoice.series}{invoice.number or ''}"
    if invoice.company_id != payment.company_id or invoice.kind != DocumentKind.INVOICE:
        raise DomainError("factura_invalida", f"La factura {number} no existe en esta empresa.")
    if invoice.customer_id != payment.customer_id:
        raise DomainError("factura_de_otro_cliente", f"La factura {number} es de otro cliente.")
    if invoice.status in (DocumentStatus.DRAFT, DocumentStatus.CANCELLED):
        raise DomainError(
            "factura_no_cobrable", f"La factura {number} está {invoice.get_status_display().lower()}."
        )
    if invoice.payment != Payment.CREDIT:
        raise DomainError("factura_pue", PUE_MESSAGE.format(number=number))
    receivable = _receivable(invoice)
    if receivable is None or receivable.balance <= 0:
        raise DomainError("factura_pagada", f"La factura {number} no tiene saldo por cobrar.")
    return receivable


def _check_applications(payment: CustomerPayment, applications: list[Application]) -> Decimal:
    """Check the applications and return the advance: what the payment leaves unapplied."""
    if not applications and not payment.leave_advance:
        raise DomainError(
            "pago_sin_facturas",
            "Indique al menos una factura a la que se aplica el pago, o déjelo como anticipo.",
        )
    seen = set()
    applied = ZERO
    for application in applications:
        if application.invoice.pk in seen:
            raise DomainError("factura_repetida", "Una factura aparece dos veces en el pago.")
        seen.add(application.invoice.pk)
        receivable = _check_invoice(payment, application.invoice)
        amount = quantize(application.amount)
        if amount <= 0:
            raise DomainError(
                "importe_invalido", "El importe aplicado a cada factura debe ser mayor que cero."
            )
        if amount > receivable.balance:
            raise DomainError(
                "importe_excede_saldo",
                f"El importe {amount:,.2f} excede el saldo de la factura "
                f"{application.invoice.series}{application.invoice.number} ({receivable.balance:,.2f}).",
            )
        applied += _in_payment_currency(payment, application.invoice, amount)
    if quantize(applied) - payment.amount > Decimal("0.01") or (
        not payment.leave_advance and abs(quantize(applied) - payment.amount) > Decimal("0.01")
    ):
        raise DomainError(
            "pago_no_cuadra",
            f"Las facturas suman {quantize(applied):,.2f} {payment.currency.code} y el pago es de "
            f"{payment.amount:,.2f}: el pago debe aplicarse completo a las facturas"
            + (" (o dejar el resto como anticipo)." if not payment.leave_advance else "."),
        )
    if not payment.leave_advance or payment.amount - quantize(applied) <= Decimal("0.01"):
        return ZERO  # a cent of rounding between currencies is not an advance
    return payment.amount - quantize(applied)


@business_action
def create_payment(
    *,
    company,
    entity,
    customer,
    date: Date,
    account,
    amount,
    payment_form: str,
    applications: list[dict],
    exchange_rate=1,
    operation_number: str = "",
    payer_bank_code: str = "",
    payer_bank_rfc: str = "",
    payer_bank_name: str = "",
    payer_account: str = "",
    beneficiary_account: str = "",
    leave_advance: bool = False,
    user=None,
) -> CustomerPayment:
    """A draft payment in the account's currency, applied to invoices ``[{invoice, amount}]``;
    with ``leave_advance`` what it does not apply stays as the customer's advance (anticipo)."""
    if (
        entity.company_id != company.pk
        or customer.company_id != company.pk
        or account.company_id != company.pk
    ):
        raise DomainError(
            "pago_invalido", "La entidad, el cliente y la caja o banco deben ser de la empresa."
        )
    if customer.is_counter:
        raise DomainError(
            "pago_mostrador", "El cliente de mostrador (cliente cero) no tiene facturas a crédito."
        )
    if not entity.cash_accounts.filter(pk=account.pk).exists():
        raise DomainError(
            "caja_no_permitida",
            f"La caja o banco {account.code} no está permitida para cobrar en esta entidad de venta.",
        )
    if payment_form not in cfdi_payments.PAYMENT_FORMS:
        raise DomainError(
            "forma_pago_invalida",
            "Indique la forma de pago del SAT (c_FormaPago); en un pago no puede ser 99.",
        )
    if (payer_bank_rfc or payer_account) and payment_form not in BANK_ORDERING_FORMS:
        raise DomainError(
            "cuenta_ordenante_no_aplica",
            f"La forma de pago {payment_form} no es bancarizada: el complemento no lleva el RFC del banco ni la "
            "cuenta ordenante (CRP20221, CRP20224). Quítelos o indique la forma de pago correcta.",
        )
    if beneficiary_account and payment_form not in BANK_BENEFICIARY_FORMS:
        raise DomainError(
            "cuenta_beneficiaria_no_aplica",
            f"La forma de pago {payment_form} no lleva cuenta beneficiaria en el complemento (CRP20228).",
        )
    rate = to_decimal(exchange_rate or 1)
    currency = account.currency
    needs_rate = not currency.is_national or any(not a["invoice"].currency.is_national for a in applications)
    if rate <= 0 or (needs_rate and rate == 1) or (not needs_rate and rate != 1):
        raise DomainError("tipo_cambio_invalido", "Indique el tipo de cambio del pago (pesos por unidad).")
    payment = CustomerPayment(
        company=company,
        entity=entity,
        customer=customer,
        date=date,
        account=account,
        currency=currency,
        exchange_rate=rate,
        amount=quantize(amount),
        payment_form=payment_form,
        operation_number=operation_number,
        payer_bank_code=payer_bank_code,
        payer_bank_rfc=payer_bank_rfc,
        payer_bank_name=payer_bank_name,
        payer_account=payer_account,
        beneficiary_account=beneficiary_account,
        created_by=user,
    )
    if payment.amount <= 0:
        raise DomainError("importe_invalido", "El monto del pago debe ser mayor que cero.")
    payment.leave_advance = leave_advance
    items = [Application(a["invoice"], to_decimal(a["amount"])) for a in applications]
    payment.advance = _check_applications(payment, items)
    if payment.advance:
        require_variables(company=company, names=[Variable.CUSTOMER_ADVANCES])
    payment.save()
    PaymentApplication.objects.bulk_create(
        PaymentApplication(payment=payment, invoice=a.invoice, amount=quantize(a.amount)) for a in items
    )
    return payment


def _installment(invoice: SalesDocument) -> int:
    """NumParcialidad: the invoice's posted payments so far, plus one."""
    return (
        PaymentApplication.objects.filter(
            invoice=invoice, payment__status=CustomerPayment.Status.POSTED
        ).count()
        + 1
    )


def preview_payment(*, payment: CustomerPayment) -> dict:
    """What posting would record and the complement would say (nothing is written)."""
    applications = list(payment.applications.select_related("invoice__currency", "invoice__entity"))
    for application in applications:
        if payment.status == CustomerPayment.Status.DRAFT:
            receivable = _receivable(application.invoice)
            application.previous_balance = receivable.balance if receivable else ZERO
            application.installment = _installment(application.invoice)
    documents = [paid_document(payment, a, uuid="") for a in applications]
    received = cfdi_payments.PaymentReceived(
        paid_at=timezone.now(),
        payment_form=payment.payment_form,
        currency=payment.currency.code,
        amount=payment.amount - payment.advance,
        documents=tuple(documents),
        exchange_rate=None if payment.currency.is_national else payment.exchange_rate,
    )
    return {
        "documents": [
            {
                "invoice": a.invoice_id,
                "uuid": d.uuid,
                "series": d.series,
                "folio": d.folio,
                "currency": d.currency,
                "equivalence": str(d.equivalence),
                "installment": d.installment,
                "previous_balance": str(d.previous_balance),
                "amount_paid": str(d.amount_paid),
                "remaining_balance": str(d.remaining_balance),
                "complement": stamped_invoice_cfdi(a.invoice) is not None,
                "taxes": [
                    {
                        "tax": t.tax,
                        "factor": t.factor,
                        "rate": None if t.rate is None else str(t.rate),
                        "base": str(t.base),
                        "amount": None if t.amount is None else str(t.amount),
                        "withheld": t.withheld,
                    }
                    for t in cfdi_payments.paid_taxes(d)
                ],
            }
            for a, d in zip(applications, documents, strict=True)
        ],
        "advance": str(payment.advance),
        "totales": {k: str(v) for k, v in cfdi_payments.totals([received]).items()},
    }


def can_post(payment: CustomerPayment) -> bool:
    return payment.status == CustomerPayment.Status.DRAFT


def _journal(payment: CustomerPayment, movement, applications, user) -> JournalEntry:
    company = payment.company
    accounts = require_variables(company=company, names=[Variable.CUSTOMERS, Variable.IVA_TRANSFERRED])
    concept = f"Cobro {payment.customer.name}"[:200]
    lines = [cash_journal_line(movement)]
    credits = ZERO
    for application, receivable in applications:
        national = quantize(application.amount * receivable.exchange_rate)
        credits += national
        lines.append(
            {
                "account": accounts[Variable.CUSTOMERS],
                "credit": national,
                "description": f"Factura {application.invoice.series}{application.invoice.number}"[:200],
            }
        )
    if payment.advance:
        national = quantize(payment.advance * payment.exchange_rate)
        credits += national
        lines.append(
            {
                "account": require_variables(company=company, names=[Variable.CUSTOMER_ADVANCES])[
                    Variable.CUSTOMER_ADVANCES
                ],
                "credit": national,
                "description": "Anticipo de cliente",
            }
        )
    exchange = exchange_difference_line(
        company=company, difference=lines[0]["debit"] - credits, what="El pago"
    )
    if exchange is not None:
        lines.append(exchange)
    collected = account_by_sat_code(company, IVA_COLLECTED)
    not_collected = accounts[Variable.IVA_TRANSFERRED]
    if collected is not None and not_collected.sat_grouping_code == IVA_NOT_COLLECTED:
        iva = ZERO
        for application, receivable in applications:
            document = paid_document(payment, application)
            paid = sum(
                (
                    t.amount
                    for t in cfdi_payments.paid_taxes(document)
                    if t.tax == "002" and not t.withheld and t.amount
                ),
                ZERO,
            )
            iva += quantize(paid * receivable.exchange_rate)
        if iva > 0:
            lines.append({"account": not_collected, "debit": iva, "description": "IVA cobrado"})
            lines.append({"account": collected, "credit": iva, "description": "IVA cobrado"})
    return post_journal_entry(
        company=company,
        kind=JournalEntry.Kind.INCOME,
        date=payment.date,
        concept=concept,
        origin=payment.origin_reference,
        lines=lines,
        user=user,
    )


@business_action
def post_payment(*, payment: CustomerPayment, user=None) -> CustomerPayment:
    """Post a draft payment: deposit, receivable records, póliza; the complement after commit."""
    payment = (
        CustomerPayment.objects.select_for_update(of=("self",))
        .select_related("company", "entity", "customer", "account__currency", "currency")
        .get(pk=payment.pk)
    )
    if not can_post(payment):
        raise DomainError(
            "pago_no_contabilizable",
            f"El pago está {payment.get_status_display().lower()}: solo se aplica un borrador.",
            status=409,
        )
    applications = list(
        payment.applications.select_related(
            "invoice__currency", "invoice__entity", "invoice__company"
        ).order_by("invoice_id")
    )
    payment.leave_advance = bool(payment.advance)
    if (
        _check_applications(payment, [Application(a.invoice, a.amount) for a in applications])
        != payment.advance
    ):
        raise DomainError(
            "pago_no_cuadra", "Los saldos de las facturas cambiaron: registre el pago de nuevo."
        )
    movement = create_cash_movement(
        company=payment.company,
        account=payment.account,
        kind="deposit",
        date=payment.date,
        amount=payment.amount,
        method=_method(payment.payment_form),
        concept=f"Cobro {payment.customer.name}",
        exchange_rate=None if payment.currency.is_national else payment.exchange_rate,
        counterparty_bank=payment.payer_bank_code,
        counterparty_bank_foreign=payment.payer_bank_name,
        counterparty_account=payment.payer_account,
        beneficiary=payment.customer.name,
        beneficiary_rfc=payment.customer.rfc,
        reference=payment.operation_number[:60],
        origin=payment.origin_reference,
        user=user,
    )
    posted = []
    for application in applications:  # in invoice order: receivables are locked in a fixed order
        receivable = _receivable(application.invoice, lock=True)
        application.previous_balance = receivable.balance
        application.installment = _installment(application.invoice)
        application.receivable_record = apply_receivable_record(
            receivable=receivable,
            kind=ReceivableRecord.Kind.PAYMENT,
            date=payment.date,
            amount=application.amount,
            reference=f"Pago {payment.pk}",
            origin=payment.origin_reference,
            cash_movement=movement,
            user=user,
        )
        application.save(update_fields=["previous_balance", "installment", "receivable_record"])
        posted.append((application, receivable))
    if payment.entity.is_contable:
        entry = _journal(payment, movement, posted, user)
        link_movements_to_entry(movements=[movement], entry=entry)
    if payment.advance:
        CustomerAdvance.objects.create(
            company=payment.company,
            customer=payment.customer,
            payment=payment,
            date=payment.date,
            currency=payment.currency,
            exchange_rate=payment.exchange_rate,
            amount=payment.advance,
            balance=payment.advance,
        )
    payment.status = CustomerPayment.Status.POSTED
    payment.cash_movement = movement
    payment.posted_at = timezone.now()
    payment.save(update_fields=["status", "cash_movement", "posted_at"])
    if needs_complement(payment) and company_can_seal(payment.company):
        transaction.on_commit(partial(issue_complement_task.delay, payment.pk), robust=True)
    return payment


def can_cancel(payment: CustomerPayment) -> bool:
    return payment.status == CustomerPayment.Status.POSTED


def cancel_payment(*, payment: CustomerPayment, motive: str = "02", substitute_uuid: str = "", user=None):
    """Cancel a posted payment. Its stamped complement is cancelled with SAT first (no lock held
    during the PAC call); only when SAT accepts are the deposit, the receivable records and the
    póliza cancelled, in one transaction."""
    payment = CustomerPayment.objects.select_related("company").get(pk=payment.pk)
    if not can_cancel(payment):
        raise DomainError(
            "pago_no_cancelable",
            f"El pago está {payment.get_status_display().lower()}: solo se cancela un pago aplicado.",
            status=409,
        )
    if AdvanceApplication.objects.filter(advance__payment=payment).exists():
        raise DomainError(
            "anticipo_aplicado",
            "El anticipo de este pago ya se aplicó a facturas: no se puede cancelar el pago.",
            status=409,
        )
    # What would stop undoing the books (a closed period…) stops it before SAT is asked: a dry run.
    dry_run(_cancel_records, payment=payment, user=user)
    document = payment_cfdi(payment)
    if document is not None and document.status == CfdiDocument.Status.STAMPED:
        document = cancel_cfdi(document=document, motive=motive, substitute_uuid=substitute_uuid)
        if document.cancellation_status != CfdiDocument.Cancellation.ACCEPTED:
            raise DomainError(
                "complemento_en_cancelacion",
                "El SAT aún no acepta la cancelación del complemento de pago; el pago sigue aplicado.",
                status=409,
            )
    return _cancel_records(payment=payment, user=user)


@business_action
def _cancel_records(*, payment: CustomerPayment, user=None) -> CustomerPayment:
    payment = CustomerPayment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
    if not can_cancel(payment):
        raise DomainError("pago_no_cancelable", "El pago ya está cancelado.", status=409)
    advance = CustomerAdvance.objects.select_for_update().filter(payment=payment).first()
    if advance is not None:
        if advance.applications.exists():
            raise DomainError(
                "anticipo_aplicado",
                "El anticipo de este pago ya se aplicó a facturas: no se puede cancelar el pago.",
                status=409,
            )
        advance.status = CustomerAdvance.Status.CANCELLED
        advance.balance = ZERO
        advance.save(update_fields=["status", "balance"])
    for application in payment.applications.select_related("receivable_record__receivable").order_by(
        "invoice_id"
    ):
        if (
            application.receivable_record
            and application.receivable_record.status == ReceivableRecord.Status.ACTIVE
        ):
            cancel_receivable_record(record=application.receivable_record, user=user, by_owner=True)
    if payment.cash_movement_id:
        cancel_cash_movement(movement=payment.cash_movement, user=user, by_owner=True)
    cancel_entries_for_origin(company=payment.company, origin=payment.origin_reference, user=user)
    payment.status = CustomerPayment.Status.CANCELLED
    payment.cancelled_at = timezone.now()
    payment.save(update_fields=["status", "cancelled_at"])
    return payment


# -- Advances (anticipos) ---------------------------------------------------------------------


@business_action
def apply_advance(*, advance: CustomerAdvance, invoice: SalesDocument, amount, date: Date, user=None):
    """Apply part of a customer's advance to an open invoice of theirs, in the same currency: a
    receivable record (Aplicación de anticipo) and, for contable entities, a póliza de diario
    from «anticipos de clientes» to «clientes» (the exchange difference, when the rates differ,
    to its accounts). The deposit was recorded when the advance was received."""
    advance = (
        CustomerAdvance.objects.select_for_update(of=("self",))
        .select_related("company", "customer", "currency")
        .get(pk=advance.pk)
    )
    if advance.status != CustomerAdvance.Status.ACTIVE or advance.balance <= 0:
        raise DomainError(
            "anticipo_sin_saldo", "El anticipo está cancelado o ya se aplicó completo.", status=409
        )
    number = f"{invoice.series}{invoice.number or ''}"
    if invoice.customer_id != advance.customer_id:
        raise DomainError("factura_de_otro_cliente", f"La factura {number} es de otro cliente.")
    if invoice.currency_id != advance.currency_id:
        raise DomainError(
            "moneda_distinta",
            f"El anticipo es en {advance.currency.code} y la factura {number} en otra moneda: aplique "
            "anticipos a facturas de su misma moneda.",
        )
    if invoice.kind != DocumentKind.INVOICE or invoice.status in (
        DocumentStatus.DRAFT,
        DocumentStatus.CANCELLED,
    ):
        raise DomainError("factura_no_cobrable", f"La factura {number} no está agregada.")
    amount = quantize(to_decimal(amount))
    if amount <= 0:
        raise DomainError("importe_invalido", "El importe aplicado debe ser mayor que cero.")
    if amount > advance.balance:
        raise DomainError(
            "importe_excede_anticipo",
            f"El importe {amount:,.2f} excede el saldo del anticipo ({advance.balance:,.2f}).",
        )
    receivable = _receivable(invoice, lock=True)
    if receivable is None or receivable.balance <= 0:
        raise DomainError("factura_pagada", f"La factura {number} no tiene saldo por cobrar.")
    if date < advance.date:
        raise DomainError("fecha_invalida", "La aplicación no puede ser anterior al anticipo.")
    application = AdvanceApplication(
        company=advance.company, advance=advance, invoice=invoice, date=date, amount=amount, created_by=user
    )
    application.receivable_record = apply_receivable_record(
        receivable=receivable,
        kind=ReceivableRecord.Kind.ADVANCE,
        date=date,
        amount=amount,
        reference=f"Anticipo {advance.pk}",
        origin=advance.origin_reference,
        user=user,
    )
    application.save()
    if invoice.entity.is_contable:
        accounts = require_variables(
            company=advance.company, names=[Variable.CUSTOMERS, Variable.CUSTOMER_ADVANCES]
        )
        debit = quantize(amount * advance.exchange_rate)
        credit = quantize(amount * receivable.exchange_rate)
        lines = [
            {
                "account": accounts[Variable.CUSTOMER_ADVANCES],
                "debit": debit,
                "description": f"Anticipo {advance.pk}",
            },
            {"account": accounts[Variable.CUSTOMERS], "credit": credit, "description": f"Factura {number}"},
        ]
        exchange = exchange_difference_line(
            company=advance.company, difference=debit - credit, what="La aplicación del anticipo"
        )
        if exchange is not None:
            lines.append(exchange)
        post_journal_entry(
            company=advance.company,
            kind=JournalEntry.Kind.GENERAL,
            date=date,
            concept=f"Aplicación de anticipo {advance.customer.name}"[:200],
            origin=application.origin_reference,
            lines=lines,
            user=user,
        )
    advance.balance -= amount
    advance.save(update_fields=["balance"])
    return application
