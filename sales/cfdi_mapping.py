"""Invoices as the CFDI engine sees them: a plain fiscal description (cfdi knows nothing of sales).

Concept amounts are recomputed by erp.taxes from the same quantities, prices, discounts and rates
the invoice was computed with, so the CFDI's totals equal the invoice's to the cent.
"""

from django.utils import timezone

from cashbank.models import CashMovement
from cfdi.description import Concept, FiscalDocument, Receiver
from cfdi.services import issuer_for

from .document_models import Payment, SalesDocument

SOURCE_MODEL = "sales.salesdocument"


def _payment_form(invoice: SalesDocument) -> str:
    """c_FormaPago: the method of the largest collection for contado; the customer's usual form
    when there is no payment method (crédito is always 99 with PPD, set by the builder)."""
    if invoice.payment == Payment.CASH:
        largest = (
            CashMovement.objects.filter(origin=invoice.origin_reference, kind=CashMovement.Kind.DEPOSIT)
            .order_by("-document_amount")
            .values_list("method", flat=True)
            .first()
        )
        return largest or "01"
    return invoice.customer.forma_pago


def fiscal_document_for(invoice: SalesDocument, *, payment_form: str | None = None) -> FiscalDocument:
    """The invoice's fiscal description. ``payment_form`` stands in for the collections' form
    when they are not written yet (the SAT rules checked while posting)."""
    company = invoice.company
    place_of_issue = invoice.entity.place_of_issue
    if invoice.customer.is_counter:
        receiver = Receiver.counter(place_of_issue)
    else:
        receiver = Receiver(
            rfc=invoice.customer_rfc,
            name=invoice.customer_name,
            postal_code=invoice.customer_postal_code,
            regimen_fiscal=invoice.customer_regimen_fiscal,
            uso_cfdi=invoice.customer_uso_cfdi,
            email=invoice.customer.email,
        )
    concepts = tuple(
        Concept(
            product_key=line.product.sat_product_key,
            unit_key=line.product.sat_unit_key,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            sku=line.code,
            unit=line.unit,
            iva_rate=line.iva_rate,
            iva_exempt=line.iva_exempt,
            ieps_rate=line.ieps_rate,
            ieps_quota=line.ieps_quota,
            retained_iva_rate=line.retained_iva_rate,
            retained_isr_rate=line.retained_isr_rate,
        )
        for line in invoice.lines.select_related("product").order_by("position")
    )
    return FiscalDocument(
        issuer=issuer_for(company, place_of_issue=place_of_issue),
        receiver=receiver,
        concepts=concepts,
        doc_type="I",
        series=invoice.series,
        folio=str(invoice.number),
        issued_at=timezone.now(),
        credit=invoice.payment == Payment.CREDIT,
        payment_form=payment_form or _payment_form(invoice),
        payment_terms=f"{invoice.customer.credit_days} días" if invoice.payment == Payment.CREDIT else "",
        currency=invoice.currency.code,
        exchange_rate=None if invoice.currency.is_national else invoice.exchange_rate,
    )
