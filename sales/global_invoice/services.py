"""The global invoice of counter sales (factura global), through the one CFDI engine.

An entity with «ventas de mostrador como tickets» posts its contado sales to customer 0 without a
CFDI of their own (``SalesDocument.ticket``; see ``sales.posting``). The global invoice groups the
tickets of a period not yet invoiced into one CFDI to PUBLICO EN GENERAL, as SAT's «Guía de
llenado» of CFDI 4.0 says for operations with the general public:

- Receptor XAXX010101000 «PUBLICO EN GENERAL», régimen 616, uso S01, DomicilioFiscalReceptor the
  place of issue (the engine's ``Receiver.counter``);
- InformacionGlobal with Periodicidad (c_Periodicidad 01–05), Meses (01–12; 13–18 for the
  bimestral periods, régimen 621 only) and Año (the period's);
- one Concepto per ticket: ClaveProdServ 01010101, Cantidad 1, ClaveUnidad ACT, NoIdentificacion
  the ticket's number, Descripcion «Venta», ValorUnitario the ticket's importe and Descuento its
  discount, with the ticket's taxes. A ticket that mixes tax rates gives one concept per rate
  (same NoIdentificacion). When merging the lines of a rate would round a tax differently from the
  ticket (each line rounds its own taxes, ``erp.taxes``), or for IEPS by quota, that ticket's lines
  go one concept each instead: the global invoice's amounts are always the tickets' to the cent.

A customer who asks for the invoice of their ticket gets it (``invoice_ticket``): the ticket takes
the customer's fiscal data, leaves any global invoice not yet sealed, and is sealed on its own. A
ticket in a sealed or stamped global invoice is refused: SAT would see the sale twice.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date as Date
from datetime import timedelta
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from cashbank.models import CashMovement
from cfdi.description import Concept, FiscalDocument, GlobalInfo, Receiver
from cfdi.models import CfdiDocument
from cfdi.services import cancel_cfdi, issuer_for, refuse_what_sat_would, seal_cfdi, stamp_cfdi
from cfdi.tasks import deliver
from erp.errors import DomainError
from erp.money import ZERO
from erp.sat_catalogs import currency_decimals
from erp.taxes import compute_line
from erp.transactions import business_action

from ..cfdi_mapping import SOURCE_MODEL as INVOICE_SOURCE
from ..document_models import DocumentKind, DocumentStatus, SalesDocument
from ..documents import _copy_customer
from ..invoice_cfdi import check_invoice_for_sat, company_can_seal, seal_and_deliver
from ..models import COUNTER_CUSTOMER_NUMBER, Customer, SalesEntity
from .models import GlobalInvoice, GlobalInvoiceTicket, Periodicity

SOURCE_MODEL = "sales.globalinvoice"
SERIES = "FG"
PRODUCT_KEY, UNIT_KEY, DESCRIPTION = "01010101", "ACT", "Venta"  # SAT's guide for global invoices
RIF = "621"  # only the Régimen de Incorporación Fiscal may issue bimestral global invoices


def ticket_number(ticket: SalesDocument) -> str:
    return f"{ticket.series}{ticket.number or ''}"


# -- Periods --------------------------------------------------------------------------------


def months_for(periodicity: str, date_from: Date, date_to: Date) -> str:
    """InformacionGlobal/Meses of a period: its month (01–12), or its bimester (13–18) for 05.
    The period must lie in one month (one bimester for 05): SAT's Meses names one."""
    if periodicity not in Periodicity.values:
        raise DomainError(
            "periodicidad_invalida",
            "La periodicidad debe ser 01 diario, 02 semanal, 03 quincenal, 04 mensual o 05 bimestral.",
        )
    if date_to < date_from:
        raise DomainError("periodo_invalido", "La fecha final del periodo es anterior a la inicial.")
    if date_from.year != date_to.year:
        raise DomainError("periodo_invalido", "El periodo de la factura global debe ser de un solo año.")
    if periodicity == Periodicity.BIMONTHLY:
        first, last = 12 + (date_from.month + 1) // 2, 12 + (date_to.month + 1) // 2
        if first != last:
            raise DomainError(
                "periodo_invalido",
                "El periodo bimestral debe quedar dentro de un bimestre (enero-febrero, …).",
            )
        return f"{first:02d}"
    if date_from.month != date_to.month:
        raise DomainError(
            "periodo_invalido",
            "El periodo de la factura global debe quedar dentro de un mes (el atributo Meses del SAT "
            "nombra uno): emita una por cada mes.",
        )
    return f"{date_from.month:02d}"


def period_containing(periodicity: str, day: Date) -> tuple[Date, Date]:
    """The period of ``periodicity`` that contains ``day``, clipped to its month (bimester for 05)."""
    month_start = day.replace(day=1)
    month_end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if periodicity == Periodicity.DAILY:
        return day, day
    if periodicity == Periodicity.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return max(monday, month_start), min(monday + timedelta(days=6), month_end)
    if periodicity == Periodicity.FORTNIGHTLY:
        return (month_start, day.replace(day=15)) if day.day <= 15 else (day.replace(day=16), month_end)
    if periodicity == Periodicity.MONTHLY:
        return month_start, month_end
    first_month = day.month if day.month % 2 else day.month - 1
    second_end = calendar.monthrange(day.year, first_month + 1)[1]
    return Date(day.year, first_month, 1), Date(day.year, first_month + 1, second_end)


def due_period(periodicity: str, today: Date) -> tuple[Date, Date] | None:
    """The period that ended yesterday, if one did: what the schedule issues ``today``."""
    yesterday = today - timedelta(days=1)
    start, end = period_containing(periodicity, yesterday)
    return (start, end) if end == yesterday else None


# -- Tickets --------------------------------------------------------------------------------


def _own_cfdi():
    return CfdiDocument.objects.filter(source_model=INVOICE_SOURCE, source_id=OuterRef("pk")).exclude(
        cancellation_status=CfdiDocument.Cancellation.ACCEPTED
    )


def pending_tickets(entity: SalesEntity, date_from: Date, date_to: Date):
    """Tickets of the period not yet invoiced: posted, still to customer 0, without a CFDI of
    their own and in no global invoice in force."""
    return (
        SalesDocument.objects.filter(
            entity=entity,
            kind=DocumentKind.INVOICE,
            ticket=True,
            customer_number=COUNTER_CUSTOMER_NUMBER,
            date__gte=date_from,
            date__lte=date_to,
        )
        .exclude(status__in=(DocumentStatus.DRAFT, DocumentStatus.CANCELLED))
        .exclude(Exists(GlobalInvoiceTicket.objects.filter(ticket=OuterRef("pk"), active=True)))
        .exclude(Exists(_own_cfdi()))
        .order_by("date", "number")
    )


def _concept(ticket: SalesDocument, line, *, quantity, unit_price, discount) -> Concept:
    return Concept(
        product_key=PRODUCT_KEY,
        unit_key=UNIT_KEY,
        description=DESCRIPTION,
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        sku=ticket_number(ticket),
        iva_rate=line.iva_rate,
        iva_exempt=line.iva_exempt,
        ieps_rate=line.ieps_rate,
        ieps_quota=line.ieps_quota,
        retained_iva_rate=line.retained_iva_rate,
        retained_isr_rate=line.retained_isr_rate,
    )


def _amounts(line_taxes) -> tuple:
    return (
        line_taxes.importe,
        line_taxes.discount,
        tuple((t.tax, t.factor, t.rate, t.base, t.amount) for t in line_taxes.transferred),
        tuple((t.tax, t.factor, t.rate, t.base, t.amount) for t in line_taxes.withheld),
    )


def _sum_amounts(items: list[tuple]) -> tuple:
    importe = sum((i[0] for i in items), ZERO)
    discount = sum((i[1] for i in items), ZERO)

    def taxes(index):
        sums: dict[tuple, list] = {}
        for item in items:
            for tax, factor, rate, base, amount in item[index]:
                entry = sums.setdefault((tax, factor, rate), [ZERO, None])
                entry[0] += base
                if amount is not None:
                    entry[1] = (entry[1] or ZERO) + amount
        return tuple((*key, base, amount) for key, (base, amount) in sums.items())

    return importe, discount, taxes(2), taxes(3)


def ticket_concepts(ticket: SalesDocument, decimals: int = 2) -> list[Concept]:
    """The global invoice's concepts of one ticket (see the module's rules)."""
    groups: dict[tuple, list] = defaultdict(list)
    for line in sorted(ticket.lines.all(), key=lambda line: line.position):
        key = (
            line.iva_rate,
            line.iva_exempt,
            line.ieps_rate,
            line.ieps_quota,
            line.retained_iva_rate,
            line.retained_isr_rate,
        )
        groups[key].append(line)
    concepts: list[Concept] = []
    for lines in groups.values():
        singles = [
            _concept(ticket, line, quantity=line.quantity, unit_price=line.unit_price, discount=line.discount)
            for line in lines
        ]
        computed = [compute_line(c.line_input(), decimals) for c in singles]
        merged = _concept(
            ticket,
            lines[0],
            quantity=Decimal(1),
            unit_price=sum((c.importe for c in computed), ZERO),
            discount=sum((c.discount for c in computed), ZERO),
        )
        same = not lines[0].ieps_quota and _amounts(
            compute_line(merged.line_input(), decimals)
        ) == _sum_amounts([_amounts(c) for c in computed])
        concepts.extend([merged] if same else singles)
    return concepts


def _payment_form(tickets: list[SalesDocument]) -> str:
    """FormaPago: the form that collected the largest amount of the tickets (c_FormaPago)."""
    largest = (
        CashMovement.objects.filter(
            origin__in=[t.origin_reference for t in tickets], kind=CashMovement.Kind.DEPOSIT
        )
        .values("method")
        .annotate(amount=Sum("document_amount"))
        .order_by("-amount", "method")
        .values_list("method", flat=True)
        .first()
    )
    return largest or "01"


def active_tickets(global_invoice: GlobalInvoice) -> list[SalesDocument]:
    return [
        line.ticket
        for line in global_invoice.tickets.filter(active=True)
        .select_related("ticket__currency")
        .prefetch_related("ticket__lines")
        .order_by("ticket__date", "ticket__number")
    ]


def fiscal_document_for(
    global_invoice: GlobalInvoice, tickets: list[SalesDocument] | None = None
) -> FiscalDocument:
    """The global invoice as the CFDI engine sees it."""
    tickets = active_tickets(global_invoice) if tickets is None else tickets
    entity = global_invoice.entity
    currency = global_invoice.currency
    decimals = currency_decimals(currency.code)
    decimals = 2 if decimals is None else decimals
    rates = {t.exchange_rate for t in tickets}
    return FiscalDocument(
        issuer=issuer_for(global_invoice.company, place_of_issue=entity.place_of_issue),
        receiver=Receiver.counter(entity.place_of_issue),
        concepts=tuple(c for ticket in tickets for c in ticket_concepts(ticket, decimals)),
        doc_type="I",
        series=SERIES,
        folio=str(global_invoice.pk),
        issued_at=timezone.now(),
        credit=False,
        payment_form=_payment_form(tickets),
        currency=currency.code,
        exchange_rate=None if currency.is_national else max(rates, default=None),
        global_info=GlobalInfo(
            periodicity=global_invoice.periodicity, months=global_invoice.months, year=global_invoice.year
        ),
    )


# -- Writes ---------------------------------------------------------------------------------


@business_action
def create_global_invoice(
    *,
    company,
    entity: SalesEntity,
    date_from: Date,
    date_to: Date | None = None,
    periodicity: str = "",
    user=None,
) -> GlobalInvoice:
    """A draft global invoice with the period's tickets not yet invoiced (checked against SAT's
    rules now, so that issuing it can only fail at the PAC)."""
    if entity.company_id != company.pk:
        raise DomainError("entidad_invalida", "La entidad de venta no es de esta empresa.")
    periodicity = periodicity or entity.global_periodicity
    date_to = date_to or date_from
    months = months_for(periodicity, date_from, date_to)
    if periodicity == Periodicity.BIMONTHLY and company.regimen_fiscal != RIF:
        raise DomainError(
            "periodicidad_invalida",
            "La periodicidad bimestral (05) solo aplica al Régimen de Incorporación Fiscal (621).",
        )
    if date_to > timezone.localdate():
        raise DomainError(
            "periodo_invalido", "El periodo de la factura global no puede terminar en el futuro."
        )
    # One global invoice at a time per entity: the tickets it takes are not taken twice.
    entity = SalesEntity.objects.select_for_update().select_related("company").get(pk=entity.pk)
    tickets = list(pending_tickets(entity, date_from, date_to).select_related("currency"))
    if not tickets:
        raise DomainError(
            "sin_tickets",
            f"No hay tickets sin facturar de la entidad {entity.code} del {date_from:%d/%m/%Y} al "
            f"{date_to:%d/%m/%Y}.",
        )
    currencies = {t.currency_id for t in tickets}
    if len(currencies) > 1:
        raise DomainError(
            "tickets_en_varias_monedas",
            "Los tickets del periodo están en varias monedas: la factura global es de una sola moneda.",
        )
    if not tickets[0].currency.is_national and len({t.exchange_rate for t in tickets}) > 1:
        raise DomainError(
            "tickets_con_varios_tipos_de_cambio",
            "Los tickets en moneda extranjera del periodo tienen distintos tipos de cambio: emita una "
            "factura global por cada tipo de cambio (un solo TipoCambio por CFDI).",
        )
    global_invoice = GlobalInvoice.objects.create(
        company=company,
        entity=entity,
        periodicity=periodicity,
        date_from=date_from,
        date_to=date_to,
        months=months,
        year=date_from.year,
        currency=tickets[0].currency,
        total=sum((t.total for t in tickets), ZERO),
        created_by=user,
    )
    GlobalInvoiceTicket.objects.bulk_create(
        GlobalInvoiceTicket(global_invoice=global_invoice, ticket=t, total=t.total) for t in tickets
    )
    if company_can_seal(company):
        refuse_what_sat_would(company=company, document=fiscal_document_for(global_invoice))
    return global_invoice


def global_cfdi(global_invoice: GlobalInvoice) -> CfdiDocument | None:
    """The global invoice's CFDI in force: stamped (not cancelled), else the last sealed attempt."""
    documents = CfdiDocument.objects.filter(source_model=SOURCE_MODEL, source_id=global_invoice.pk)
    return (
        documents.filter(status=CfdiDocument.Status.STAMPED)
        .exclude(cancellation_status=CfdiDocument.Cancellation.ACCEPTED)
        .first()
        or documents.filter(status=CfdiDocument.Status.SEALED).order_by("-pk").first()
    )


def _seal(global_invoice: GlobalInvoice) -> CfdiDocument:
    """Under the global invoice's lock: drop the tickets cancelled since it was drafted, and seal
    (once: a sealed CFDI is returned as is). From here its tickets cannot be invoiced apart."""
    with transaction.atomic():
        global_invoice = (
            GlobalInvoice.objects.select_for_update(of=("self",))
            .select_related("company", "entity__company", "currency")
            .get(pk=global_invoice.pk)
        )
        if global_invoice.status == GlobalInvoice.Status.CANCELLED:
            raise DomainError("factura_global_cancelada", "La factura global está cancelada.", status=409)
        existing = global_cfdi(global_invoice)
        if existing is not None:
            return existing
        global_invoice.tickets.filter(active=True, ticket__status=DocumentStatus.CANCELLED).update(
            active=False
        )
        tickets = active_tickets(global_invoice)
        if not tickets:
            raise DomainError(
                "sin_tickets", "La factura global ya no tiene tickets: todos se cancelaron o facturaron aparte.",
                status=409,
            )  # fmt: skip
        global_invoice.total = sum((t.total for t in tickets), ZERO)
        global_invoice.save(update_fields=["total"])
        return seal_cfdi(
            company=global_invoice.company,
            document=fiscal_document_for(global_invoice, tickets),
            source_model=SOURCE_MODEL,
            source_id=global_invoice.pk,
        )


def issue_global_invoice(*, global_invoice: GlobalInvoice, user=None) -> CfdiDocument:
    """Seal and stamp the global invoice's CFDI (no lock held during the PAC call), then print and
    mail it after commit. Safe to repeat: a stamped CFDI is returned as is, a sealed one is sent
    to the PAC again as it is, never sealed twice."""
    try:
        document = stamp_cfdi(document=_seal(global_invoice))
    except DomainError as error:
        GlobalInvoice.objects.filter(pk=global_invoice.pk).update(
            cfdi_error=f"{error.code}: {error.message}"[:1000]
        )
        raise
    updated = GlobalInvoice.objects.filter(pk=global_invoice.pk, status=GlobalInvoice.Status.DRAFT).update(
        status=GlobalInvoice.Status.ISSUED, issued_at=timezone.now(), cfdi_error=""
    )
    if updated and not document.pdf:
        transaction.on_commit(partial(deliver, document.pk), robust=True)
    return document


def stamped_global_cfdi(global_invoice: GlobalInvoice) -> CfdiDocument:
    document = global_cfdi(global_invoice)
    if document is None or document.status != CfdiDocument.Status.STAMPED:
        raise DomainError(
            "factura_global_sin_cfdi",
            "La factura global no tiene un CFDI timbrado: use «Emitir».",
            status=409,
        )
    return document


def cancel_global_invoice(
    *, global_invoice: GlobalInvoice, motive: str = "02", substitute_uuid: str = "", user=None
):
    """Cancel the global invoice: its CFDI with SAT first; when SAT accepts, its tickets are free
    again (for another global invoice or their own)."""
    global_invoice = GlobalInvoice.objects.get(pk=global_invoice.pk)
    if global_invoice.status == GlobalInvoice.Status.CANCELLED:
        raise DomainError("factura_global_cancelada", "La factura global ya está cancelada.", status=409)
    document = global_cfdi(global_invoice)
    if document is not None and document.status == CfdiDocument.Status.SEALED:
        raise DomainError(
            "factura_global_sellada",
            "La factura global tiene un CFDI sellado que el PAC aún no timbra: use «Emitir» para terminarlo "
            "antes de cancelarla.",
            status=409,
        )
    if document is not None:
        document = cancel_cfdi(document=document, motive=motive, substitute_uuid=substitute_uuid)
        if document.cancellation_status != CfdiDocument.Cancellation.ACCEPTED:
            raise DomainError(
                "factura_global_en_cancelacion",
                "El SAT aún no acepta la cancelación de la factura global; sigue vigente.",
                status=409,
            )
    with transaction.atomic():
        global_invoice = GlobalInvoice.objects.select_for_update().get(pk=global_invoice.pk)
        global_invoice.tickets.update(active=False)
        global_invoice.status = GlobalInvoice.Status.CANCELLED
        global_invoice.cancelled_at = timezone.now()
        global_invoice.save(update_fields=["status", "cancelled_at"])
    return global_invoice


@business_action
def _take_ticket(*, ticket: SalesDocument, customer: Customer, user=None) -> SalesDocument:
    ticket = (
        SalesDocument.objects.select_for_update(of=("self",))
        .select_related("entity", "company")
        .get(pk=ticket.pk)
    )
    number = ticket_number(ticket)
    if not ticket.ticket or ticket.kind != DocumentKind.INVOICE:
        raise DomainError("no_es_ticket", f"La venta {number} no es un ticket de mostrador.")
    if ticket.status in (DocumentStatus.DRAFT, DocumentStatus.CANCELLED):
        raise DomainError(
            "ticket_no_facturable", f"El ticket {number} está {ticket.get_status_display().lower()}."
        )
    if customer.company_id != ticket.company_id or customer.is_counter:
        raise DomainError(
            "cliente_invalido", "Indique el cliente de la empresa (no el de mostrador) que pide su factura."
        )
    if (
        ticket.customer_number != COUNTER_CUSTOMER_NUMBER
        or CfdiDocument.objects.filter(source_model=INVOICE_SOURCE, source_id=ticket.pk)
        .exclude(cancellation_status=CfdiDocument.Cancellation.ACCEPTED)
        .exists()
    ):
        raise DomainError(
            "ticket_ya_facturado", f"El ticket {number} ya se facturó a {ticket.customer_name}.", status=409
        )
    for line in GlobalInvoiceTicket.objects.filter(ticket=ticket, active=True):
        global_invoice = GlobalInvoice.objects.select_for_update().get(pk=line.global_invoice_id)
        document = global_cfdi(global_invoice)
        if document is not None:
            where = f" (folio fiscal {document.uuid})" if document.uuid else ""
            raise DomainError(
                "ticket_en_factura_global",
                f"El ticket {number} ya está en la factura global {SERIES}{global_invoice.pk}{where}, "
                f"{'timbrada' if document.status == CfdiDocument.Status.STAMPED else 'sellada'}: no puede "
                "facturarse por separado. Cancele la factura global para volver a emitirla sin él.",
                status=409,
            )
        line.active = False
        line.save(update_fields=["active"])
        global_invoice.total -= line.total
        global_invoice.save(update_fields=["total"])
    _copy_customer(ticket, customer)
    ticket.save(
        update_fields=[
            "customer", "customer_number", "customer_rfc", "customer_name", "customer_address",
            "customer_colonia", "customer_poblacion", "customer_postal_code", "customer_phones",
            "customer_regimen_fiscal", "customer_uso_cfdi",
        ]
    )  # fmt: skip
    check_invoice_for_sat(invoice=ticket)
    return ticket


def invoice_ticket(*, ticket: SalesDocument, customer: Customer, user=None) -> CfdiDocument:
    """The customer's own invoice of a ticket: the ticket takes their fiscal data, leaves the
    global invoice it was drafted in, and its CFDI is sealed, stamped, printed and mailed."""
    ticket = _take_ticket(ticket=ticket, customer=customer, user=user)
    return seal_and_deliver(invoice=ticket)


def issue_due_global_invoices(*, today: Date | None = None) -> list[int]:
    """The schedule: for every entity that issues its global invoice automatically, the global
    invoice of the period that ended yesterday (when it has tickets). Returns the new ids."""
    today = today or timezone.localdate()
    issued = []
    entities = SalesEntity.objects.filter(
        active=True, counter_tickets=True, global_schedule=True
    ).select_related("company")
    for entity in entities:
        period = due_period(entity.global_periodicity, today)
        if period is None or not pending_tickets(entity, *period).exists():
            continue
        global_invoice = create_global_invoice(
            company=entity.company, entity=entity, date_from=period[0], date_to=period[1]
        )
        issued.append(global_invoice.pk)
        if company_can_seal(entity.company):
            try:
                issue_global_invoice(global_invoice=global_invoice)
            except DomainError:  # kept on the global invoice (cfdi_error); «Emitir» retries it
                continue
    return issued


def issue_current_global_invoice(
    *, entity: SalesEntity, user=None, today: Date | None = None
) -> GlobalInvoice:
    """«Factura global» by hand (cashier screen, admin): the tickets not yet invoiced of the
    entity's period in course, up to today, in one global invoice, sealed and stamped now."""
    today = today or timezone.localdate()
    date_from, _ = period_containing(entity.global_periodicity, today)
    global_invoice = create_global_invoice(
        company=entity.company, entity=entity, date_from=date_from, date_to=today, user=user
    )
    if company_can_seal(entity.company):
        issue_global_invoice(global_invoice=global_invoice, user=user)
    return global_invoice


def refuse_if_in_global_invoice(document: SalesDocument) -> None:
    """A ticket in a sealed or stamped global invoice cannot be cancelled alone: SAT holds the sale
    in that CFDI. (A draft global invoice drops cancelled tickets when it is sealed.)"""
    if not document.ticket:
        return
    for line in GlobalInvoiceTicket.objects.filter(ticket=document, active=True).select_related(
        "global_invoice"
    ):
        if global_cfdi(line.global_invoice) is not None:
            raise DomainError(
                "ticket_en_factura_global",
                f"El ticket {ticket_number(document)} está en la factura global {SERIES}{line.global_invoice_id}: "
                "cancele primero la factura global.",
                status=409,
            )
