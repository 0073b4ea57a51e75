"""Posting an invoice (the seed's "Agregar Factura", paths A–E) in one transaction.

A) contado: collected into the entity's cash/bank accounts, one póliza de ingresos for all of
   them (contable entities) with each movement's e-accounting record;
B) crédito: a receivable, and a póliza de diario for contable entities;
C) sin método de pago: no money, no receivable; the diario uses the CC_VENNP counterpart;
D) warehouse: no movement when the entity keeps none or the invoice comes from a remission;
   otherwise a stock exit of the goods (services move no stock), whose cost entry the
   warehouse posts when it is linked to accounting;
E) after commit, the CFDI engine is asked to seal it.

Every record written points back at the invoice through its origin "VFAC|ID|Entidad||", which is
how cancelling and tracking find them.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounting.models import JournalEntry
from accounting.services import post_journal_entry, require_variables
from accounting.variables import SALES_VARIABLES, Variable
from cashbank.models import CashBankAccount, PaymentMethod
from cashbank.services import (
    cash_journal_line,
    check_collection_accounts,
    create_cash_movement,
    link_movements_to_entry,
)
from erp.errors import DomainError
from erp.money import ZERO, quantize, to_decimal
from erp.transactions import business_action

from .document_models import DocumentKind, DocumentStatus, Payment, SalesDocument
from .documents import can_post, exit_goods, stock_exit, take_invoice_number
from .invoice_cfdi import check_invoice_for_sat, sealing_csds
from .receivables.services import open_receivable
from .tasks import request_seal


@dataclass(frozen=True)
class Collection:
    """One cash or bank account that collects part of a cash invoice (amount in its currency)."""

    account: CashBankAccount
    amount: Decimal
    method: str = PaymentMethod.CASH
    check_number: str = ""
    counterparty_bank: str = ""
    counterparty_account: str = ""
    reference: str = ""


def _national(amount: Decimal, rate: Decimal) -> Decimal:
    return quantize(amount * rate)


def _sales_lines(document: SalesDocument, accounts: dict) -> tuple[list[dict], list[dict]]:
    """The income side of a sale in national currency: (credits, debits other than the collection)."""
    rate = document.exchange_rate
    concept = f"Factura {document.series}{document.number} {document.customer_name}"[:200]
    credits = [
        (Variable.SALES_INCOME, document.importe),
        (Variable.IVA_TRANSFERRED, document.iva),
        (Variable.IEPS_TRANSFERRED, document.ieps),
    ]
    debits = [
        (Variable.SALES_DISCOUNTS, document.discount),
        (Variable.RETAINED_IVA, document.retained_iva),
        (Variable.RETAINED_ISR, document.retained_isr),
    ]

    def lines(pairs, side):
        return [
            {"account": accounts[variable], side: _national(amount, rate), "description": concept}
            for variable, amount in pairs
            if amount > 0
        ]

    return lines(credits, "credit"), lines(debits, "debit")


def _balanced(credits: list[dict], debits: list[dict], counterpart_lines: list[dict]) -> list[dict]:
    """Absorb the cents that converting each amount at the exchange rate may leave, on income."""
    difference = sum(ln["debit"] for ln in debits + counterpart_lines) - sum(ln["credit"] for ln in credits)
    if difference:
        credits[0]["credit"] += difference
    return counterpart_lines + debits + credits


def _check_collections(document: SalesDocument, collections: list[Collection]) -> None:
    """The seed's collection rules for a contado invoice, checked before anything is written."""
    entity = document.entity
    if not collections:
        raise DomainError("sin_cobro", "Una factura de contado requiere al menos una caja o banco de cobro.")
    allowed = set(entity.cash_accounts.values_list("pk", flat=True))
    for collection in collections:
        if collection.account.pk not in allowed:
            raise DomainError(
                "caja_no_permitida",
                f"La caja o banco {collection.account.code} no está permitida para cobrar en esta entidad de venta.",
            )
    check_collection_accounts(
        document_currency=document.currency,
        accounts=[c.account for c in collections],
        document_is_contable=entity.is_contable,
    )
    collected = sum((to_decimal(c.amount) for c in collections), ZERO)
    if quantize(collected) != document.total:
        raise DomainError(
            "cobro_incompleto",
            f"Los cobros suman {quantize(collected)} y el total de la factura es {document.total}.",
        )


def _largest_form(collections: list[Collection] | None) -> str | None:
    """c_FormaPago of a contado invoice: its largest collection's (as ``_payment_form`` reads it back)."""
    if not collections:
        return None
    return max(collections, key=lambda c: to_decimal(c.amount)).method


def _collect(document: SalesDocument, collections: list[Collection], accounts: dict, user) -> None:
    concept = f"Cobro factura {document.series}{document.number} {document.customer_name}"
    movements = [
        create_cash_movement(
            company=document.company,
            account=c.account,
            kind="deposit",
            date=document.date,
            amount=c.amount,
            method=c.method,
            concept=concept,
            document_currency=document.currency,
            exchange_rate=document.exchange_rate,
            check_number=c.check_number,
            counterparty_bank=c.counterparty_bank,
            counterparty_account=c.counterparty_account,
            beneficiary=document.customer_name,
            beneficiary_rfc=document.customer_rfc,
            reference=c.reference or f"{document.series}{document.number}",
            origin=document.origin_reference,
            user=user,
        )
        for c in collections
    ]
    if document.entity.is_contable:
        credits, debits = _sales_lines(document, accounts)
        entry = post_journal_entry(
            company=document.company,
            kind=JournalEntry.Kind.INCOME,
            date=document.date,
            concept=concept,
            origin=document.origin_reference,
            lines=_balanced(credits, debits, [cash_journal_line(m) for m in movements]),
            user=user,
        )
        link_movements_to_entry(movements=movements, entry=entry)


def _diario(document: SalesDocument, accounts: dict, counterpart: str, user) -> None:
    credits, debits = _sales_lines(document, accounts)
    total = _national(document.total, document.exchange_rate)
    counterpart_line = {
        "account": accounts[counterpart],
        "debit": total,
        "description": document.customer_name[:200],
    }
    post_journal_entry(
        company=document.company,
        kind=JournalEntry.Kind.GENERAL,
        date=document.date,
        concept=f"Factura {document.series}{document.number} {document.customer_name}"[:300],
        origin=document.origin_reference,
        lines=_balanced(credits, debits, [counterpart_line]),
        user=user,
    )


@business_action
def post_invoice(
    *, document: SalesDocument, collections: list[Collection] | None = None, user=None, seal: bool = True
) -> SalesDocument:
    """Post a draft invoice: number it and write its money, receivable, entries and stock exit.
    ``seal=False``: the invoice already has its CFDI (built from an XML stamped elsewhere)."""
    # Only the joins every posting needs (the warehouse's inventory account for the cost entry),
    # and the customer for a credit invoice (its receivable): each join costs the planner. The
    # source is read for invoices that have one. Whether the company can seal rides along.
    joins = ["entity", "company", "currency", "warehouse__inventory_account"]
    if document.payment == Payment.CREDIT:  # as the caller knows it; read again under the lock
        joins.append("customer")
    document = (
        SalesDocument.objects.select_for_update(of=("self",))
        .select_related(*joins)
        .annotate(can_seal=Exists(sealing_csds(OuterRef("company"))))
        .get(pk=document.pk)
    )
    if not can_post(document):
        raise DomainError(
            "no_se_puede_contabilizar",
            f"La factura está {document.get_status_display().lower()}: solo se contabiliza un borrador.",
            status=409,
        )
    # The seed: every sales variable is checked, used or not, linked entity or not.
    accounts = require_variables(company=document.company, names=SALES_VARIABLES)
    if document.payment == Payment.CASH:
        _check_collections(document, collections or [])
    elif collections:
        raise DomainError("cobro_no_aplica", "Solo las facturas de contado se cobran al agregarlas.")
    # D) a remission made its own exit when created.
    from_remission = document.source_id and document.source.kind == DocumentKind.REMISSION
    goods = [] if from_remission else exit_goods(document)
    can_seal = seal and document.can_seal
    if can_seal:
        # Nothing is posted that SAT would refuse: the CFDI it will get is built and checked now.
        check_invoice_for_sat(invoice=document, payment_form=_largest_form(collections))
    # The consecutive is taken once everything has been read and checked: from here to commit,
    # the entity's other postings wait for this one.
    document.number = take_invoice_number(document=document)

    if document.payment == Payment.CASH:
        _collect(document, collections, accounts, user)
    else:
        if document.payment == Payment.CREDIT:
            open_receivable(
                company=document.company,
                customer=document.customer,
                date=document.date,
                amount=document.total,
                currency=document.currency,
                exchange_rate=document.exchange_rate,
                document_number=f"{document.series}{document.number}",
                origin=document.origin_reference,
                user=user,
            )
        if document.entity.is_contable:
            counterpart = (
                Variable.CUSTOMERS if document.payment == Payment.CREDIT else Variable.NO_PAYMENT_COUNTERPART
            )
            _diario(document, accounts, counterpart, user)

    document.stock_movement = stock_exit(
        document=document, goods=goods, user=user, cost_account=accounts[Variable.COST_OF_SALES]
    )
    # Generada while its exit awaits the warehouse's audit; with nothing to audit, Emitida.
    document.status = DocumentStatus.GENERATED if document.stock_movement else DocumentStatus.EMITTED
    document.posted_at = timezone.now()
    document.save(update_fields=["number", "status", "posted_at", "stock_movement"])
    if can_seal:
        # E) the CFDI is sealed after commit, never while this transaction holds its locks; a
        # failure there is recorded on the invoice and does not undo the posting.
        transaction.on_commit(partial(request_seal, document.pk), robust=True)
    return document
