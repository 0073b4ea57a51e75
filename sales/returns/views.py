"""Cashier screen "Devolver" / "Rebajar" from an invoice: the invoice's lines as the template,
live totals from the API's preview (the server calculates), then create and post through the API."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from cashbank.models import PaymentMethod
from erp.roles import companies_with_perm

from ..document_models import DocumentKind, SalesDocument
from .models import CreditNote
from .services import can_credit, rebated_prices, returned_quantities

KINDS = {"devolver": CreditNote.Kind.RETURN, "rebajar": CreditNote.Kind.REBATE}


@login_required
def credit_note_entry(request, invoice_id: int, action: str):
    if action not in KINDS:
        raise Http404("Use devolver o rebajar.")
    invoice = get_object_or_404(
        SalesDocument.objects.select_related("entity", "currency"),
        pk=invoice_id,
        kind=DocumentKind.INVOICE,
        company__in=companies_with_perm(request.user, "sales.add_creditnote"),
    )
    kind = KINDS[action]
    returned, rebated = returned_quantities(invoice), rebated_prices(invoice)
    lines = []
    for line in invoice.lines.order_by("position"):
        left_quantity = line.quantity - returned.get(line.pk, 0)
        left_price = line.unit_price - rebated.get(line.pk, 0)
        lines.append({"line": line, "quantity": left_quantity, "price": left_price})
    return render(
        request,
        "sales/credit_note_entry.html",
        {
            "invoice": invoice,
            "kind": kind,
            "kind_label": CreditNote.Kind(kind).label,
            "lines": lines,
            "can_credit": can_credit(invoice),
            "today": timezone.localdate().isoformat(),
            "cash_accounts": invoice.entity.cash_accounts.filter(active=True).select_related("currency"),
            "methods": PaymentMethod.choices,
        },
    )
