"""Posting an invoice (the seed's "Agregar Factura", paths A–E) in one transaction.

A) contado: collected into the entity's cash/bank accounts, one póliza de ingresos for all of
   them (contable entities) with each movement's e-accounting record;
B) crédito: a receivable, and a póliza de diario for contable entities;
C) sin método de pago: no money, no receivable; the diario uses the CC_VENNP counterpart;
D) warehouse: no movement when the entity keeps none or the invoice comes from a remission;
   otherwise a stock exit of the goods (services move no stock), whose cost entry the
   warehouse posts when it is linked to accounting;
E) after commit, the CFDI engine is asked to seal it — except a ticket (a counter sale of an
   entity that posts them as tickets), which waits for the global invoice of its period.

Every record written points back at the invoice through its origin "VFAC|ID|Entidad||", which is
how cancelling and tracking find them.

A credit note (return or rebate, ``sales.returns``) posts through the same paths with the
``Direction`` reversed (``REVERSAL``): withdrawals instead of deposits and a póliza de egresos (A),
the diario's sides swapped with the sales-returns account (VEN_DEVOLUCIONES) in place of income
(B, C), and a stock entry instead of an exit (D).
"""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounting.models import JournalEntry
from accounting.services import exchange_difference_line, post_journal_entry, require_variables
from accounting.variables import SALES_VARIABLES, Variable
from cashbank.models import CashBankAccount, CashMovement, PaymentMethod
from cashbank.services import (
    cash_journal_line,
    check_collection_accounts,
    create_cash_movement,
    link_movements_to_entry,
)
from erp.errors import DomainError
from erp.money import ZERO, quantize, to_decimal
from erp.transactions import business_action
from inventory.services import create_stock_movement

from .document_models import DocumentKind, DocumentStatus, Payment, SalesDocument
from .documents import blank_uso_cfdi, can_post, exit_goods, take_invoice_number
from .invoice_cfdi import check_invoice_for_sat, sealing_csds
from .models import COUNTER_CUSTOMER_NUMBER, Customer
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


@dataclass(frozen=True)
class Direction:
    """Which way a sales document moves money, taxes and goods: a sale (``SALE``) or its reversal
    by a credit note (``REVERSAL``). The A–D paths below are written once and read it."""

    label: str  # how pólizas and movements name the document ("Factura A1 …")
    income_side: str  # the side of income, IVA and IEPS ("credit" for a sale)
    income_variable: str  # the account income goes to (VEN_INGRESOS, or VEN_DEVOLUCIONES)
    cash_kind: str  # deposit (collect) or withdrawal (pay back)
    cash_entry_kind: str  # póliza de ingresos or de egresos
    cash_operation: str  # cashbank's "collect" or "refund" rules
    cash_concept: str
    stock_kind: str  # exit or entry
    stock_concept: str
    messages: dict = field(default_factory=dict)

    @property
    def other_side(self) -> str:
        return "debit" if self.income_side == "credit" else "credit"


SALE = Direction(
    label="Factura",
    income_side="credit",
    income_variable=Variable.SALES_INCOME,
    cash_kind=CashMovement.Kind.DEPOSIT,
    cash_entry_kind=JournalEntry.Kind.INCOME,
    cash_operation="collect",
    cash_concept="Cobro factura",
    stock_kind="exit",
    stock_concept="Salida por",
    messages={
        "sin_cobro": "Una factura de contado requiere al menos una caja o banco de cobro.",
        "caja_no_permitida": "La caja o banco {code} no está permitida para cobrar en esta entidad de venta.",
        "cobro_incompleto": "Los cobros suman {collected} y el total de la factura es {total}.",
    },
)
REVERSAL = Direction(
    label="Nota de crédito",
    income_side="debit",
    income_variable=Variable.RETURNS_REBATES,
    cash_kind=CashMovement.Kind.WITHDRAWAL,
    cash_entry_kind=JournalEntry.Kind.EXPENSE,
    cash_operation="refund",
    cash_concept="Devolución o rebaja",
    stock_kind="entry",
    stock_concept="Entrada por",
    messages={
        "sin_cobro": "Una devolución o rebaja de contado requiere al menos una caja o banco de retiro.",
        "caja_no_permitida": "La caja o banco {code} no está permitida para retirar en esta entidad de venta.",
        "cobro_incompleto": "Los retiros suman {collected} y el total de la devolución o rebaja es {total}.",
    },
)


def _national(amount: Decimal, rate: Decimal) -> Decimal:
    return quantize(amount * rate)


def _sales_lines(document, accounts: dict, direction: Direction) -> tuple[list[dict], list[dict]]:
    """The income side of a sale (or of its reversal) in national currency: (income-side lines,
    other-side lines but the counterpart)."""
    rate = document.exchange_rate
    concept = f"{direction.label} {document.series}{document.number} {document.customer_name}"[:200]
    income = [
        (direction.income_variable, document.importe),
        (Variable.IVA_TRANSFERRED, document.iva),
        (Variable.IEPS_TRANSFERRED, document.ieps),
    ]
    other = [
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

    return lines(income, direction.income_side), lines(other, direction.other_side)


def _balanced(income: list[dict], other: list[dict], counterpart_lines: list[dict], direction: Direction):
    """Absorb the cents that converting each amount at the exchange rate may leave, on income."""
    side, other_side = direction.income_side, direction.other_side
    difference = sum(ln[other_side] for ln in other + counterpart_lines) - sum(ln[side] for ln in income)
    if difference:
        income[0][side] += difference
    return counterpart_lines + other + income


def check_collections(document, collections: list[Collection], direction: Direction = SALE) -> None:
    """The seed's rules A.1–A.5 for the cash and bank accounts that collect a contado invoice or
    pay back its credit note, checked before anything is written."""
    entity = document.entity
    if not collections:
        raise DomainError("sin_cobro", direction.messages["sin_cobro"], field="collections")
    allowed = set(entity.cash_accounts.values_list("pk", flat=True))
    for collection in collections:
        if collection.account.pk not in allowed:
            raise DomainError(
                "caja_no_permitida",
                direction.messages["caja_no_permitida"].format(code=collection.account.code),
                field="collections",
            )
    check_collection_accounts(
        document_currency=document.currency,
        accounts=[c.account for c in collections],
        document_is_contable=entity.is_contable,
        operation=direction.cash_operation,
    )
    collected = sum((to_decimal(c.amount) for c in collections), ZERO)
    if quantize(collected) != document.total:
        raise DomainError(
            "cobro_incompleto",
            direction.messages["cobro_incompleto"].format(
                collected=quantize(collected), total=document.total
            ),
            field="collections",
        )


def _largest_form(collections: list[Collection] | None) -> str | None:
    """c_FormaPago of a contado invoice: its largest collection's (as ``_payment_form`` reads it back)."""
    if not collections:
        return None
    return max(collections, key=lambda c: to_decimal(c.amount)).method


def _collect(document, collections: list[Collection], accounts: dict, user, direction: Direction) -> None:
    concept = f"{direction.cash_concept} {document.series}{document.number} {document.customer_name}"
    movements = [
        create_cash_movement(
            company=document.company,
            account=c.account,
            kind=direction.cash_kind,
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
        income, other = _sales_lines(document, accounts, direction)
        entry = post_journal_entry(
            company=document.company,
            kind=direction.cash_entry_kind,
            date=document.date,
            concept=concept,
            origin=document.origin_reference,
            lines=_balanced(income, other, [cash_journal_line(m) for m in movements], direction),
            user=user,
        )
        link_movements_to_entry(movements=movements, entry=entry)


def _diario(
    document, accounts: dict, counterpart: str, user, direction: Direction, counterpart_rate=None
) -> None:
    """The póliza de diario of paths B and C. ``counterpart_rate``: the rate the counterpart is
    carried at when it is not the document's (a credit note lowers the customers account at its
    invoice's rate, as the receivable holds it); the difference is an exchange gain or loss."""
    income, other = _sales_lines(document, accounts, direction)
    total = _national(document.total, document.exchange_rate)
    counterpart_line = {
        "account": accounts[counterpart],
        direction.other_side: total,
        "description": document.customer_name[:200],
    }
    lines = _balanced(income, other, [counterpart_line], direction)
    if counterpart_rate is not None and counterpart_rate != document.exchange_rate:
        carried = _national(document.total, counterpart_rate)
        counterpart_line[direction.other_side] = carried
        sign = 1 if direction.other_side == "credit" else -1  # debits less credits of the rest
        exchange = exchange_difference_line(
            company=document.company,
            difference=sign * (total - carried),
            what=f"La {direction.label.lower()}",
        )
        lines.append(exchange)
    post_journal_entry(
        company=document.company,
        kind=JournalEntry.Kind.GENERAL,
        date=document.date,
        concept=f"{direction.label} {document.series}{document.number} {document.customer_name}"[:300],
        origin=document.origin_reference,
        lines=lines,
        user=user,
    )


def post_money(
    *,
    document,
    collections: list[Collection],
    accounts: dict,
    user,
    direction: Direction,
    counterpart_rate=None,
) -> None:
    """Paths A–C once the receivable (B) is written by the caller: A) contado moves the money
    through the checked cash and bank accounts with one póliza de ingresos or egresos; B) crédito
    and C) no payment method post a diario against customers or CC_VENNP (contable entities),
    the counterpart at ``counterpart_rate`` when given (see ``_diario``)."""
    if document.payment == Payment.CASH:
        _collect(document, collections, accounts, user, direction)
    elif document.entity.is_contable:
        counterpart = (
            Variable.CUSTOMERS if document.payment == Payment.CREDIT else Variable.NO_PAYMENT_COUNTERPART
        )
        _diario(document, accounts, counterpart, user, direction, counterpart_rate)


def move_stock(*, document, goods: list[dict], cost_account, user, direction: Direction):
    """D) the stock exit of a sale or the entry of a return (``goods``: product, quantity and, for
    an entry, the unit cost the goods left with); the warehouse posts the cost entry when linked."""
    if not goods:
        return None
    return create_stock_movement(
        company=document.company,
        warehouse=document.warehouse,
        kind=direction.stock_kind,
        date=document.date,
        concept=f"{direction.stock_concept} {document} {document.customer_name}"[:300],
        origin=document.origin_reference,
        lines=goods,
        user=user,
        counterpart_account=cost_account,
    )


def is_ticket_sale(document: SalesDocument) -> bool:
    """A contado sale to customer 0 in an entity that posts counter sales as tickets."""
    return (
        document.kind == DocumentKind.INVOICE
        and document.payment == Payment.CASH
        and document.customer_number == COUNTER_CUSTOMER_NUMBER
        and document.entity.counter_tickets
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
    refreshed = []
    if not document.customer_uso_cfdi:
        # Copied blank from a customer synced without it (QR, Anexo 20 3.3), or from a remission or
        # order: the customer's uso del CFDI if it has been assigned since, else refused.
        uso = Customer.objects.filter(pk=document.customer_id).values_list("uso_cfdi", flat=True).first()
        if not uso:
            raise blank_uso_cfdi(document.customer_rfc)
        document.customer_uso_cfdi, refreshed = uso, ["customer_uso_cfdi"]
    # The seed: every sales variable is checked, used or not, linked entity or not.
    accounts = require_variables(company=document.company, names=SALES_VARIABLES)
    if document.payment == Payment.CASH:
        check_collections(document, collections or [])
    elif collections:
        raise DomainError("cobro_no_aplica", "Solo las facturas de contado se cobran al agregarlas.")
    # D) a remission made its own exit when created.
    from_remission = document.source_id and document.source.kind == DocumentKind.REMISSION
    goods = [] if from_remission else exit_goods(document)
    can_seal = seal and document.can_seal
    if can_seal:
        # Nothing is posted that SAT would refuse: the CFDI it will get is built and checked now.
        check_invoice_for_sat(invoice=document, payment_form=_largest_form(collections))
    # A counter sale of an entity that posts them as tickets gets no CFDI of its own: the global
    # invoice of its period includes it (sales.global_invoice). Checked above all the same, so a
    # ticket is always one that could be stamped, on its own or in the global invoice.
    document.ticket = seal and is_ticket_sale(document)
    # The consecutive is taken once everything has been read and checked: from here to commit,
    # the entity's other postings wait for this one.
    document.number = take_invoice_number(document=document)

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
    post_money(document=document, collections=collections, accounts=accounts, user=user, direction=SALE)
    document.stock_movement = move_stock(
        document=document,
        goods=[{"product": line.product, "quantity": line.quantity} for line in goods],
        cost_account=accounts[Variable.COST_OF_SALES],
        user=user,
        direction=SALE,
    )
    # Generada while its exit awaits the warehouse's audit; with nothing to audit, Emitida.
    document.status = DocumentStatus.GENERATED if document.stock_movement else DocumentStatus.EMITTED
    document.posted_at = timezone.now()
    document.save(update_fields=["number", "status", "posted_at", "stock_movement", "ticket", *refreshed])
    if can_seal and not document.ticket:
        # E) the CFDI is sealed after commit, never while this transaction holds its locks; a
        # failure there is recorded on the invoice and does not undo the posting.
        transaction.on_commit(partial(request_seal, document.pk), robust=True)
    return document
