"""Reads of cash and bank: movements and balances at a date."""

from datetime import date as Date
from decimal import Decimal

from django.db.models import Q, Sum

from erp.money import ZERO, quantize

from .models import CashBankAccount, CashMovement

_ACTIVE = Q(movements__status=CashMovement.Status.ACTIVE)


def cash_movements(*, company):
    return CashMovement.objects.filter(company=company).select_related(
        "account", "account__currency", "document_currency", "journal_entry", "created_by", "cancelled_by"
    )


def balances_at(*, company, date: Date):
    """Every cash/bank account of the company annotated with ``balance`` at the end of ``date``."""
    upto = _ACTIVE & Q(movements__date__lte=date)
    return (
        CashBankAccount.objects.filter(company=company)
        .select_related("currency")
        .annotate(
            deposits=Sum(
                "movements__amount", filter=upto & Q(movements__kind=CashMovement.Kind.DEPOSIT), default=ZERO
            ),
            withdrawals=Sum(
                "movements__amount",
                filter=upto & Q(movements__kind=CashMovement.Kind.WITHDRAWAL),
                default=ZERO,
            ),
        )
        .order_by("code")
    )


def balance_at(*, account: CashBankAccount, date: Date) -> Decimal:
    return balance_of(balances_at(company=account.company_id, date=date).get(pk=account.pk))


def balance_of(row: CashBankAccount) -> Decimal:
    """The balance of a row annotated by ``balances_at``, in cents."""
    return quantize(row.deposits - row.withdrawals)
