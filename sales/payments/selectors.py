"""Reads of customer payments that more than one caller needs."""

from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from cfdi.models import CfdiDocument

from .complement import SOURCE_MODEL
from .models import CustomerPayment


def complement_deadline(payment_date: Date) -> Date:
    """SAT's deadline for a payment complement: the 5th calendar day of the month after the
    payment (RMF 2.7.1.32 / Guía de llenado del complemento de pagos 2.0)."""
    first_of_next = (payment_date.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_of_next.replace(day=5)


@dataclass(frozen=True)
class MissingComplement:
    payment: CustomerPayment
    deadline: Date
    overdue: bool


def without_complement(queryset):
    """Posted payments of ``queryset`` with no stamped complement in force."""
    stamped = CfdiDocument.objects.filter(
        source_model=SOURCE_MODEL,
        source_id=OuterRef("pk"),
        status=CfdiDocument.Status.STAMPED,
    ).exclude(cancellation_status=CfdiDocument.Cancellation.ACCEPTED)
    return queryset.filter(status=CustomerPayment.Status.POSTED).filter(~Exists(stamped))


def missing_complements(*, company, today: Date | None = None) -> list[MissingComplement]:
    """Posted payments applied to crédito (PPD) invoices whose complement is not stamped (or
    was cancelled), oldest deadline first."""
    today = today or timezone.localdate()
    payments = (
        without_complement(CustomerPayment.objects.filter(company=company))
        .select_related("customer")
        .order_by("date", "pk")
    )
    rows = []
    for payment in payments:
        deadline = complement_deadline(payment.date)
        rows.append(MissingComplement(payment, deadline, today > deadline))
    return rows
