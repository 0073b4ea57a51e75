"""A customer payment as the CFDI engine sees it: a ``PaymentComplement`` (cfdi knows nothing of
sales). Each related invoice's total and taxes are read from its stamped XML, the legal record,
so the complement's proportional taxes are those of the CFDI the customer holds."""

from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone

from cfdi import sat
from cfdi.description import DocumentTax, PaidDocument, PaymentComplement, PaymentReceived, Receiver, Related
from cfdi.models import CfdiDocument
from cfdi.services import cancel_cfdi, issue_cfdi, issuer_for, stamp_cfdi
from cfdi.tasks import deliver
from erp.errors import DomainError

from ..cfdi_mapping import SOURCE_MODEL as INVOICE_SOURCE
from .models import CustomerPayment

SOURCE_MODEL = "sales.customerpayment"
C = f"{{{sat.CFDI_NS}}}"


def stamped_invoice_cfdi(invoice) -> CfdiDocument | None:
    return (
        CfdiDocument.objects.filter(
            source_model=INVOICE_SOURCE, source_id=invoice.pk, status=CfdiDocument.Status.STAMPED
        )
        .exclude(cancellation_status=CfdiDocument.Cancellation.ACCEPTED)
        .first()
    )


def invoice_taxes(xml: bytes) -> tuple[Decimal, tuple[DocumentTax, ...]]:
    """(Total, summary taxes) of a stamped CFDI of type I."""
    root = sat.parse(xml)
    taxes = []
    summary = root.find(f"{C}Impuestos")
    if summary is not None:
        for node in summary.iterfind(f"{C}Traslados/{C}Traslado"):
            taxes.append(
                DocumentTax(
                    tax=node.get("Impuesto"),
                    base=Decimal(node.get("Base")),
                    amount=Decimal(node.get("Importe")) if node.get("Importe") else None,
                    factor=node.get("TipoFactor"),
                    rate=Decimal(node.get("TasaOCuota")) if node.get("TasaOCuota") else None,
                )
            )
        # Retenciones in the summary carry no base: take it from the concepts of each tax.
        bases: dict[tuple, Decimal] = {}
        for node in root.iterfind(f"{C}Conceptos/{C}Concepto/{C}Impuestos/{C}Retenciones/{C}Retencion"):
            key = (node.get("Impuesto"), node.get("TipoFactor"), node.get("TasaOCuota"))
            bases[key] = bases.get(key, Decimal(0)) + Decimal(node.get("Base"))
        withheld: dict[tuple, Decimal] = {}
        for node in root.iterfind(f"{C}Conceptos/{C}Concepto/{C}Impuestos/{C}Retenciones/{C}Retencion"):
            key = (node.get("Impuesto"), node.get("TipoFactor"), node.get("TasaOCuota"))
            withheld[key] = withheld.get(key, Decimal(0)) + Decimal(node.get("Importe"))
        for (tax, factor, rate), amount in withheld.items():
            taxes.append(
                DocumentTax(
                    tax=tax,
                    base=bases[(tax, factor, rate)],
                    amount=amount,
                    factor=factor,
                    rate=Decimal(rate),
                    withheld=True,
                )
            )
    return Decimal(root.get("Total")), tuple(taxes)


def equivalence(payment: CustomerPayment, invoice) -> Decimal:
    """EquivalenciaDR: units of the invoice's currency per unit of the payment's."""
    if invoice.currency_id == payment.currency_id:
        return Decimal(1)
    if invoice.currency.is_national:  # e.g. a USD payment of an MXN invoice: pesos per dollar
        return Decimal(payment.exchange_rate)
    # an MXN payment of a USD invoice: dollars per peso, up to 10 decimals
    return (Decimal(1) / Decimal(payment.exchange_rate)).quantize(Decimal("0.0000000001"))


def paid_document(payment: CustomerPayment, application, *, uuid: str = "") -> PaidDocument:
    invoice = application.invoice
    cfdi = stamped_invoice_cfdi(invoice)
    if cfdi is not None:
        xml = bytes(CfdiDocument.objects.values_list("xml", flat=True).get(pk=cfdi.pk))
        total, taxes = invoice_taxes(xml)
        uuid = cfdi.uuid
    else:
        total, taxes = invoice.total, ()
    return PaidDocument(
        uuid=uuid or "",
        currency=invoice.currency.code,
        installment=application.installment or 1,
        previous_balance=application.previous_balance,
        amount_paid=application.amount,
        total=total,
        taxes=taxes,
        series=invoice.series,
        folio=str(invoice.number or ""),
        equivalence=equivalence(payment, invoice),
    )


def payment_received(payment: CustomerPayment, applications) -> PaymentReceived:
    moment = timezone.make_aware(
        timezone.datetime.combine(payment.date, timezone.datetime.min.time().replace(hour=12))
    )
    return PaymentReceived(
        paid_at=moment,
        payment_form=payment.payment_form,
        currency=payment.currency.code,
        amount=payment.amount - payment.advance,  # an advance left by the payment is not paid to these
        documents=tuple(paid_document(payment, a) for a in applications),
        exchange_rate=None if payment.currency.is_national else payment.exchange_rate,
        operation_number=payment.operation_number,
        payer_bank_rfc=payment.payer_bank_rfc,
        payer_bank_name=payment.payer_bank_name,
        payer_account=payment.payer_account,
        beneficiary_account=payment.beneficiary_account,
    )


def complement_for(payment: CustomerPayment, *, substitutes: str = "") -> PaymentComplement:
    customer = payment.customer
    applications = list(payment.applications.select_related("invoice__currency").order_by("pk"))
    return PaymentComplement(
        issuer=issuer_for(payment.company),
        receiver=Receiver(
            rfc=customer.rfc,
            name=customer.name,
            postal_code=customer.postal_code,
            regimen_fiscal=customer.regimen_fiscal,
            uso_cfdi="CP01",
            email=customer.email,
        ),
        payments=(payment_received(payment, applications),),
        series="P",
        folio=str(payment.pk),
        issued_at=timezone.now(),
        related=(Related("04", (substitutes,)),) if substitutes else (),
    )


def needs_complement(payment: CustomerPayment) -> bool:
    """A complement is due when the payment settles at least one invoice stamped as PPD."""
    return any(
        stamped_invoice_cfdi(a.invoice) is not None for a in payment.applications.select_related("invoice")
    )


def payment_cfdi(payment: CustomerPayment) -> CfdiDocument | None:
    """The payment's complement: the stamped one in force (a substitute replaces the one it
    substitutes), else the last sealed attempt, else the last one stamped (cancelled)."""
    documents = CfdiDocument.objects.filter(source_model=SOURCE_MODEL, source_id=payment.pk).order_by("-pk")
    stamped = documents.filter(status=CfdiDocument.Status.STAMPED)
    return (
        stamped.exclude(cancellation_status=CfdiDocument.Cancellation.ACCEPTED).first()
        or documents.filter(status=CfdiDocument.Status.SEALED).first()
        or stamped.first()
    )


def issue_complement(*, payment: CustomerPayment, substitutes: str = "") -> CfdiDocument:
    """Seal and stamp the payment's complement. Safe to repeat: a stamped complement is returned
    as is; a sealed one the PAC did not stamp is sent again as it is, never sealed twice."""
    payment = CustomerPayment.objects.select_related("company", "customer", "currency").get(pk=payment.pk)
    if payment.status != CustomerPayment.Status.POSTED:
        raise DomainError("pago_no_aplicado", "Solo un pago aplicado lleva complemento de pago.", status=409)
    if not needs_complement(payment):
        raise DomainError(
            "pago_sin_complemento",
            "El pago no se aplicó a facturas PPD timbradas: no lleva complemento de pago.",
            status=409,
        )
    existing = payment_cfdi(payment)
    if existing is not None and existing.cancellation_status == CfdiDocument.Cancellation.ACCEPTED:
        existing = None
    try:
        if existing is not None:
            document = stamp_cfdi(document=existing)
        else:
            document = issue_cfdi(
                company=payment.company,
                document=complement_for(payment, substitutes=substitutes),
                source_model=SOURCE_MODEL,
                source_id=payment.pk,
            )
    except DomainError as error:
        CustomerPayment.objects.filter(pk=payment.pk).update(
            cfdi_error=f"{error.code}: {error.message}"[:1000]
        )
        raise
    CustomerPayment.objects.filter(pk=payment.pk).update(cfdi_error="")
    return document


def issue_and_deliver(*, payment: CustomerPayment) -> CfdiDocument:
    document = issue_complement(payment=payment)
    if not document.pdf:
        transaction.on_commit(partial(deliver, document.pk), robust=True)
    return document


def stamped_complement(payment: CustomerPayment) -> CfdiDocument:
    document = payment_cfdi(payment)
    if document is None or document.status != CfdiDocument.Status.STAMPED:
        raise DomainError("pago_sin_cfdi", "El pago no tiene un complemento de pago timbrado.", status=409)
    return document


def substitute_complement(*, payment: CustomerPayment) -> CfdiDocument:
    """Replace the complement in force (e.g. after correcting the customer's fiscal data): a new
    complement related to it with TipoRelacion 04 is stamped first, then the old one is cancelled
    with SAT with motive 01 and the new UUID. Safe to repeat: a substitute sealed but not
    stamped is sent again as it is."""
    old = payment_cfdi(payment)
    if (
        old is None
        or old.status != CfdiDocument.Status.STAMPED
        or old.cancellation_status
        not in (
            CfdiDocument.Cancellation.NONE,
            CfdiDocument.Cancellation.REJECTED,
        )
    ):
        raise DomainError(
            "pago_sin_cfdi",
            "El pago no tiene un complemento de pago timbrado y vigente que sustituir.",
            status=409,
        )
    pending = CfdiDocument.objects.filter(
        source_model=SOURCE_MODEL, source_id=payment.pk, status=CfdiDocument.Status.SEALED, pk__gt=old.pk
    ).first()
    if pending is not None:
        new = stamp_cfdi(document=pending)
    else:
        payment = CustomerPayment.objects.select_related("company", "customer", "currency").get(pk=payment.pk)
        new = issue_cfdi(
            company=payment.company,
            document=complement_for(payment, substitutes=old.uuid),
            source_model=SOURCE_MODEL,
            source_id=payment.pk,
        )
    cancel_cfdi(document=old, motive=CfdiDocument.Motive.WITH_RELATION, substitute_uuid=new.uuid)
    transaction.on_commit(partial(deliver, new.pk), robust=True)
    return new
