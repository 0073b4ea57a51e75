"""Reads of the accounting app: entries with their lines, trial balance (balanza)."""

import calendar
from dataclasses import dataclass, field
from datetime import date as Date
from decimal import Decimal

from django.db.models import Prefetch, Q, Sum

from erp.money import ZERO, quantize

from .models import Account, JournalEntry, JournalLine
from .services import signed


def journal_entries(
    *, company, date_from: Date | None = None, date_to: Date | None = None, kind: str | None = None
):
    queryset = (
        JournalEntry.objects.filter(company=company)
        .select_related("created_by", "cancelled_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=JournalLine.objects.select_related("account", "currency")
                .prefetch_related("payments")
                .order_by("position"),
            )
        )
    )
    if date_from:
        queryset = queryset.filter(date__gte=date_from)
    if date_to:
        queryset = queryset.filter(date__lte=date_to)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset


@dataclass
class TrialBalanceRow:
    account: Account
    level: int
    opening: Decimal = ZERO  # in the account's nature
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    closing: Decimal = ZERO  # in the account's nature
    raw_opening: Decimal = ZERO  # debit − credit, whatever the nature
    children: list = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.account.code


@dataclass
class TrialBalance:
    date_from: Date
    date_to: Date
    rows: list[TrialBalanceRow]
    total_debit: Decimal
    total_credit: Decimal
    opening_debit_balances: Decimal
    opening_credit_balances: Decimal
    closing_debit_balances: Decimal
    closing_credit_balances: Decimal

    @property
    def balances(self) -> bool:
        return (
            self.total_debit == self.total_credit
            and self.opening_debit_balances == self.opening_credit_balances
            and self.closing_debit_balances == self.closing_credit_balances
        )


def month_bounds(year: int, month: int) -> tuple[Date, Date]:
    return Date(year, month, 1), Date(year, month, calendar.monthrange(year, month)[1])


def trial_balance(*, company, date_from: Date, date_to: Date) -> TrialBalance:
    """Opening, debits, credits and closing per account for the period, rolled up the tree,
    in cents whatever the database returns.

    Three queries: the chart, the sums before the period, the sums within it (posted entries only).
    """
    accounts = list(Account.objects.filter(company=company).order_by("code"))
    posted = JournalLine.objects.filter(
        entry__company=company, entry__status=JournalEntry.Status.POSTED, entry__date__lte=date_to
    )
    sums = posted.values("account_id").annotate(
        before_debit=Sum("debit", filter=Q(entry__date__lt=date_from), default=ZERO),
        before_credit=Sum("credit", filter=Q(entry__date__lt=date_from), default=ZERO),
        debit=Sum("debit", filter=Q(entry__date__gte=date_from), default=ZERO),
        credit=Sum("credit", filter=Q(entry__date__gte=date_from), default=ZERO),
    )
    by_account = {row["account_id"]: row for row in sums}
    rows = {a.pk: TrialBalanceRow(account=a, level=1) for a in accounts}
    for row in rows.values():
        parent = rows.get(row.account.parent_id)
        if parent:
            parent.children.append(row)
    roots = [r for r in rows.values() if r.account.parent_id is None]

    def roll_up(row: TrialBalanceRow, level: int) -> None:
        row.level = level
        own = by_account.get(row.account.pk)
        if own:
            row.raw_opening = quantize(own["before_debit"] - own["before_credit"])
            row.debit, row.credit = quantize(own["debit"]), quantize(own["credit"])
        for child in row.children:
            roll_up(child, level + 1)
            row.raw_opening += child.raw_opening
            row.debit += child.debit
            row.credit += child.credit
        nature = row.account.nature
        row.opening = row.raw_opening if nature == Account.Nature.DEBIT else -row.raw_opening
        row.closing = row.opening + signed(row.debit, row.credit, nature)

    for root in roots:
        roll_up(root, 1)
    raw_closing = [r.raw_opening + r.debit - r.credit for r in roots]
    return TrialBalance(
        date_from=date_from,
        date_to=date_to,
        rows=[rows[a.pk] for a in accounts],
        total_debit=sum((r.debit for r in roots), ZERO),
        total_credit=sum((r.credit for r in roots), ZERO),
        opening_debit_balances=sum((r.raw_opening for r in roots if r.raw_opening > 0), ZERO),
        opening_credit_balances=-sum((r.raw_opening for r in roots if r.raw_opening < 0), ZERO),
        closing_debit_balances=sum((c for c in raw_closing if c > 0), ZERO),
        closing_credit_balances=-sum((c for c in raw_closing if c < 0), ZERO),
    )
