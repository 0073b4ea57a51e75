"""Cashier screen «Cobros»: customer → open crédito invoices with their balances → amounts → post.

The screen computes nothing itself: it creates and posts the payment through the API
(/api/sales/payments/), whose preview shows the installments and the complement's Totales."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from cfdi.payments import PAYMENT_FORMS
from erp.roles import companies_with_perm
from erp.sat_catalogs import forma_pago_name

from ..document_models import DocumentKind, DocumentStatus, Payment, SalesDocument
from ..models import SalesEntity
from ..receivables.models import Receivable


def open_invoices(customer) -> list[SalesDocument]:
    """The customer's posted crédito invoices with a balance, oldest first, each with ``balance``."""
    receivables = {
        r.origin: r
        for r in Receivable.objects.filter(customer=customer, status=Receivable.Status.ACTIVE, balance__gt=0)
    }
    invoices = (
        SalesDocument.objects.filter(customer=customer, kind=DocumentKind.INVOICE, payment=Payment.CREDIT)
        .exclude(status__in=(DocumentStatus.DRAFT, DocumentStatus.CANCELLED))
        .select_related("entity", "currency")
        .order_by("date", "number")
    )
    result = []
    for invoice in invoices:
        receivable = receivables.get(invoice.origin_reference)
        if receivable is not None:
            invoice.balance = receivable.balance
            result.append(invoice)
    return result


@login_required
def payment_entry(request, entity_id: int):
    entities = SalesEntity.objects.filter(
        company__in=companies_with_perm(request.user, "sales.add_customerpayment"), active=True
    )
    entity = get_object_or_404(entities.select_related("company"), pk=entity_id)
    customers = entity.customers.filter(active=True).exclude(number=0).order_by("number")
    customer = None
    value = request.GET.get("cliente", "")
    if value:
        if not value.isdigit():
            raise Http404("Cliente inválido.")
        customer = get_object_or_404(customers, pk=value)
    return render(
        request,
        "sales/payment_entry.html",
        {
            "entity": entity,
            "customers": customers,
            "customer": customer,
            "invoices": open_invoices(customer) if customer else [],
            "accounts": entity.cash_accounts.filter(active=True).select_related("currency"),
            "forms": [(code, forma_pago_name(code) or code) for code in sorted(PAYMENT_FORMS)],
            "today": timezone.localdate().isoformat(),
        },
    )
