"""Reads of receivables: lists, a customer's debt and statement."""

from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal

from django.db.models import Q, Sum

from erp.money import ZERO, quantize

from .models import Receivable, ReceivableRecord


def receivables(*, company):
    return Receivable.objects.filter(company=company).select_related(
        "customer", "customer__entity", "currency", "created_by", "cancelled_by"
    )


def customer_debt(*, customer) -> dict[str, Decimal]:
    """Open balance of the customer's active receivables, per currency code."""
    rows = (
        Receivable.objects.filter(customer=customer, status=Receivable.Status.ACTIVE, balance__gt=0)
        .values("currency__code")
        .annotate(total=Sum("balance"))
        .order_by("currency__code")
    )
    return {row["currency__code"]: quantize(row["total"]) for row in rows}


@dataclass
class StatementLine:
    date: Date
    description: str
    charge: Decimal
    credit: Decimal
    balance: Decimal
    currency: str


def customer_statement(
    *, customer, date_from: Date | None = None, date_to: Date | None = None
) -> list[StatementLine]:
    """Charges (receivables) and credits (records) in date order, with a running balance per
    currency; the first line of each currency carries the balance before ``date_from``."""
    active = Q(status=Receivable.Status.ACTIVE)
    docs = list(Receivable.objects.filter(active, customer=customer).select_related("currency"))
    records = list(
        ReceivableRecord.objects.filter(
            receivable__customer=customer,
            receivable__status=Receivable.Status.ACTIVE,
            status=ReceivableRecord.Status.ACTIVE,
        ).select_related("receivable", "receivable__currency")
    )
    events = [
        (r.date, 0, r.pk, f"{r.document_type} {r.document_number}", r.amount, ZERO, r.currency.code)
        for r in docs
    ]
    events += [
        (
            rec.date,
            1,
            rec.pk,
            f"{rec.get_kind_display()} a {rec.receivable.document_type} {rec.receivable.document_number}",
            ZERO,
            rec.amount,
            rec.receivable.currency.code,
        )
        for rec in records
    ]
    events.sort()
    balances: dict[str, Decimal] = {}
    lines: list[StatementLine] = []
    opened: set[str] = set()
    for when, _, _, description, charge, credit, code in events:
        if date_to and when > date_to:
            continue
        balance = balances.get(code, ZERO) + charge - credit
        balances[code] = balance
        if date_from and when < date_from:
            continue
        if date_from and code not in opened:
            opened.add(code)
            before = balance - charge + credit
            lines.append(StatementLine(date_from, "Saldo anterior", ZERO, ZERO, before, code))
        lines.append(StatementLine(when, description, charge, credit, balance, code))
    return lines
