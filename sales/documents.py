"""Writes of quotes, orders, remissions and invoices: the header and line rules of the seed's
"Agregar Factura", numbering, and generating an invoice from another document."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date as date_type
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from erp.errors import DomainError
from erp.models import Company, Currency
from erp.money import ZERO, check_amount, to_decimal
from erp.taxes import (
    FRONTIER_IVA_RATE,
    IVA_EXEMPT,
    IVA_ZERO,
    Party,
    compute_line,
    iva_for_treatment,
    retention_rates,
    summarize,
)
from erp.validators import cfdi_text_problem
from inventory.models import Product
from inventory.services import create_stock_movement

from .cfdi_mapping import stamped_uuid_of
from .document_models import (
    CUSTOMER_SNAPSHOT,
    DocumentCounter,
    DocumentKind,
    DocumentStatus,
    Payment,
    SalesDocument,
    SalesDocumentLine,
    set_totals,
)
from .models import Customer, SalesEntity, Salesperson

UNSET = object()  # "not given", as opposed to an explicit None (salesperson 0)

# Where a refusal points, for the screens (and integrators) to show it beside its cause: a header
# error names its input in ``details["field"]``; a line error gives ``details["line"]`` (the
# position, 1 = the first line sent, as "Partida 1" in the message) and the line's input in
# ``details["field"]`` when one is to blame.
LINE_ERROR_FIELDS = {
    "cantidad_invalida": "quantity",
    "precio_invalido": "unit_price",
    "descuento_invalido": "discount_rate",
    "iva_frontera_no_permitido": "iva_rate",
    "texto_invalido": "description",
    "producto_inexistente": "product",
}


@contextmanager
def at_line(position: int) -> Iterator[None]:
    """A refusal raised while building line ``position`` says so: "Partida N: …" and its details."""
    try:
        yield
    except DomainError as error:
        if "line" in error.details:
            raise
        message = error.message
        if not message.startswith("Partida "):
            lowered = message[:1].lower() + message[1:] if message[1:2].islower() else message
            message = f"Partida {position}: {lowered}"
        details = {"line": position, **error.details}
        if error.code in LINE_ERROR_FIELDS:
            details.setdefault("field", LINE_ERROR_FIELDS[error.code])
        raise DomainError(error.code, message, status=error.status, **details) from error


@dataclass(frozen=True)
class LineRequest:
    """A line as the user typed it: product by code or supplier code; blanks take defaults."""

    product_code: str
    quantity: Decimal
    unit_price: Decimal | None = None
    discount_rate: Decimal | None = None
    iva_rate: Decimal | None = None
    description: str = ""
    observations: str = ""


def line_iva_rate(*, entity: SalesEntity, product: Product, requested: Decimal | None) -> Decimal | None:
    """The seed's IVA rules on the product's treatment: a product with no IVA (no objeto, exento)
    gets no rate, a 0% product gets 0; for a taxed product a blank rate takes the entity's, a 0%
    entity ignores a given rate, otherwise the given rate applies. 8% only where the entity may
    charge it (``SalesEntity.frontier_refusal``)."""
    rate, _ = iva_for_treatment(product.iva_treatment, entity_rate=entity.iva_rate)
    if rate is None or product.iva_treatment == IVA_ZERO:
        return rate
    if requested is not None and entity.iva_rate != 0:
        rate = to_decimal(requested)
    if rate == FRONTIER_IVA_RATE:
        refusal = entity.frontier_refusal()
        if refusal:
            raise DomainError("iva_frontera_no_permitido", refusal)
    return rate


def line_taxes(*, entity: SalesEntity, customer: Customer, product: Product, requested_iva=None) -> dict:
    """The tax fields of a line (rates in percent): IVA treatment and rate, IEPS, and the
    retentions the parties make (``erp.taxes.retention_rates``)."""
    iva_rate = line_iva_rate(entity=entity, product=product, requested=requested_iva)
    iva_exempt = product.iva_treatment == IVA_EXEMPT
    retained_iva, retained_isr = retention_rates(
        operation=product.tax_operation,
        issuer=Party(entity.company.rfc, entity.company.regimen_fiscal),
        receiver=Party(customer.rfc, customer.regimen_fiscal),
        iva_rate=iva_rate,
        iva_exempt=iva_exempt,
    )
    return {
        "iva_rate": iva_rate,
        "iva_exempt": iva_exempt,
        "ieps_rate": ZERO if product.ieps_quota else product.ieps_rate,
        "ieps_quota": product.ieps_quota,
        "retained_iva_rate": retained_iva,
        "retained_isr_rate": retained_isr,
    }


def resolve_salesperson(*, entity: SalesEntity, customer: Customer, requested=UNSET) -> Salesperson | None:
    """The seed's four salesperson rules (None is salesperson 0, "ningún vendedor")."""
    if customer.is_counter:
        return entity.salesperson if requested is UNSET else requested
    if customer.salesperson_id is None:
        if requested not in (UNSET, None):
            raise DomainError(
                "vendedor_no_permitido",
                "El vendedor del cliente es el vendedor cero: no se puede especificar ningún vendedor.",
                field="salesperson",
            )
        return None
    if requested is not UNSET and (requested is None or requested.pk != customer.salesperson_id):
        raise DomainError(
            "vendedor_distinto_al_del_cliente",
            f"Es necesario especificar el vendedor registrado en el cliente: {customer.salesperson}.",
            field="salesperson",
        )
    return customer.salesperson


def _find_products(company: Company, codes: list[str]) -> dict[str, Product]:
    found = Product.objects.filter(company=company, active=True).filter(
        Q(code__in=codes) | Q(supplier_code__in=codes)
    )
    by_code = {}
    for product in found:
        by_code.setdefault(product.supplier_code, product)
        by_code[product.code] = product  # the product's own code wins over a supplier code
    missing = [c for c in codes if c not in by_code]
    if missing:
        raise DomainError(
            "producto_inexistente",
            f"No existe el producto o servicio con clave «{missing[0]}».",
            codes=missing,
        )
    return by_code


def _build_lines(*, entity, customer, requests: list[LineRequest], decimals: int):
    if not requests:
        raise DomainError("sin_partidas", "El documento debe tener al menos una partida.", field="lines")
    codes = [r.product_code for r in requests]
    try:
        products = _find_products(entity.company, codes)
    except DomainError as error:
        missing = error.details.get("codes") or []
        positions = [i for i, code in enumerate(codes, start=1) if code in missing]
        # The message already names the clave; the details point at every line that typed it.
        raise DomainError(
            error.code, error.message, line=positions[0], field="product", lines=positions, **error.details
        ) from error
    lines, inputs = [], []
    for position, request in enumerate(requests, start=1):
        product = products[request.product_code]
        quantity = to_decimal(request.quantity)
        price = product.list_price if request.unit_price is None else to_decimal(request.unit_price)
        discount_rate = (
            customer.general_discount if request.discount_rate is None else to_decimal(request.discount_rate)
        )
        with at_line(position):
            if not ZERO <= discount_rate <= 100:
                raise DomainError(
                    "descuento_invalido", f"Partida {position}: el descuento debe estar entre 0 y 100%."
                )
            taxes = line_taxes(
                entity=entity, customer=customer, product=product, requested_iva=request.iva_rate
            )
            check_amount(quantity * price, f"Partida {position}: el importe (cantidad × precio)")
            problem = cfdi_text_problem(request.description)
            if problem:
                raise DomainError("texto_invalido", f"Partida {position}, descripción: {problem}")
        line = SalesDocumentLine(
            position=position,
            product=product,
            code=product.code,
            unit=product.unit,
            description=request.description or product.description,
            quantity=quantity,
            unit_price=price,
            discount_rate=discount_rate,
            observations=request.observations,
            **taxes,
        )
        lines.append(line)
        inputs.append(line.tax_input(decimals))
    computed = []
    for position, item in enumerate(inputs, start=1):
        with at_line(position):  # a tax rule's refusal names the line that caused it
            computed.append(compute_line(item, decimals))
    totals = summarize(computed, decimals)
    for line, taxes in zip(lines, totals.lines, strict=True):
        line.set_amounts(taxes)
    return lines, totals


def blank_uso_cfdi(rfc: str) -> DomainError:
    """A customer synced from CONTPAQi QR by a company still on Anexo 20 3.3 has no uso del CFDI
    until the user assigns one; an invoice cannot be made (nor sealed) without it."""
    return DomainError(
        "uso_cfdi_sin_asignar",
        f"El cliente {rfc} no tiene asignado el uso del CFDI: asígnelo en el catálogo de clientes "
        "antes de facturarle.",
        field="customer",
    )


def _check_header(*, entity, customer, payment, currency, exchange_rate):
    if customer.entity_id != entity.pk:
        raise DomainError(
            "cliente_de_otra_entidad", "El cliente no pertenece a esta entidad de venta.", field="customer"
        )
    if not customer.active:
        raise DomainError("cliente_inactivo", f"El cliente {customer} está inactivo.", field="customer")
    if payment == Payment.CREDIT and customer.is_counter:
        raise DomainError(
            "credito_cliente_generico",
            "Las facturas con pago a crédito no se pueden generar si el cliente es el genérico "
            "(cliente con el número cero).",
            field="customer",
        )
    if currency.is_national:
        return Decimal("1")
    if exchange_rate is None or to_decimal(exchange_rate) <= 0:
        raise DomainError(
            "tipo_cambio_requerido",
            f"Indique el tipo de cambio: la moneda {currency.code} es extranjera.",
            field="exchange_rate",
        )
    return to_decimal(exchange_rate)


def _copy_customer(document: SalesDocument, customer: Customer) -> None:
    document.customer = customer
    for name in CUSTOMER_SNAPSHOT:
        setattr(document, f"customer_{name}", getattr(customer, name))


def prepare_document(
    *,
    kind: str,
    entity: SalesEntity,
    customer: Customer,
    date: date_type,
    lines: list[LineRequest],
    payment: str = Payment.CASH,
    currency: Currency | None = None,
    exchange_rate: Decimal | None = None,
    number: int | None = None,
    reference: str = "",
    delivery_date: date_type | None = None,
    salesperson=UNSET,
    observations: str = "",
    source: SalesDocument | None = None,
    substitutes: SalesDocument | None = None,
) -> tuple[SalesDocument, list[SalesDocumentLine]]:
    """Check the header, resolve the lines and compute the totals, saving nothing: what the
    entry screen shows while the cashier types, and what ``create_document`` then saves."""
    currency = currency or Currency.objects.get(is_national=True)
    rate = _check_header(
        entity=entity,
        customer=customer,
        payment=payment,
        currency=currency,
        exchange_rate=exchange_rate,
    )
    if kind == DocumentKind.INVOICE and not customer.uso_cfdi:
        raise blank_uso_cfdi(customer.rfc)
    if number is not None and not entity.allow_number_change:
        raise DomainError(
            "consecutivo_no_editable",
            "La entidad de venta no permite cambiar el consecutivo al momento de facturar.",
            field="number",
        )
    if delivery_date and delivery_date < date:
        raise DomainError(
            "fecha_entrega_invalida",
            "La fecha de entrega no puede ser anterior a la fecha.",
            field="delivery_date",
        )
    if substitutes is not None:
        check_substitutable(invoice=substitutes, kind=kind, entity=entity)
    line_rows, totals = _build_lines(
        entity=entity, customer=customer, requests=lines, decimals=currency.decimals
    )
    check_amount(max(totals.importe, totals.total), "El total del documento")
    check_amount(totals.total * rate, "El total del documento en moneda nacional")

    document = SalesDocument(
        company=entity.company,
        kind=kind,
        entity=entity,
        number=number,
        series=entity.series,
        reference=reference,
        date=date,
        delivery_date=delivery_date,
        payment=payment,
        currency=currency,
        exchange_rate=rate,
        warehouse=None if entity.no_stock_movements else entity.warehouse,
        salesperson=resolve_salesperson(entity=entity, customer=customer, requested=salesperson),
        observations=observations,
        source=source,
        origin_ref=source.origin_reference if source else "",
        substitutes=substitutes,
    )
    _copy_customer(document, customer)
    set_totals(document, totals)
    return document, line_rows


def create_document(
    *,
    kind: str,
    entity: SalesEntity,
    customer: Customer,
    date: date_type,
    lines: list[LineRequest],
    payment: str = Payment.CASH,
    currency: Currency | None = None,
    exchange_rate: Decimal | None = None,
    number: int | None = None,
    reference: str = "",
    delivery_date: date_type | None = None,
    salesperson=UNSET,
    observations: str = "",
    user=None,
    idempotency_key: str | None = None,
    idempotency_fingerprint: str = "",
    source: SalesDocument | None = None,
    substitutes: SalesDocument | None = None,
) -> tuple[SalesDocument, bool]:
    """Create a document with its lines and totals. Returns (document, created).

    An invoice is created as a draft and numbered when posted; quotes, orders and remissions are
    numbered at once. The same ``idempotency_key`` twice returns the first document; with a
    different request (``idempotency_fingerprint``) it is refused.
    """
    check_idempotency_key(idempotency_key)
    if idempotency_key:
        existing = SalesDocument.objects.filter(
            company=entity.company, idempotency_key=idempotency_key
        ).first()
        if existing:
            return _replay(existing, idempotency_fingerprint, kind), False
    document, line_rows = prepare_document(
        kind=kind,
        entity=entity,
        customer=customer,
        date=date,
        lines=lines,
        payment=payment,
        currency=currency,
        exchange_rate=exchange_rate,
        number=number,
        reference=reference,
        delivery_date=delivery_date,
        salesperson=salesperson,
        observations=observations,
        source=source,
        substitutes=substitutes,
    )
    document.idempotency_key = idempotency_key or None
    document.idempotency_fingerprint = idempotency_fingerprint
    document.created_by = user
    try:
        with transaction.atomic():
            if kind != DocumentKind.INVOICE:
                document.number = _take_counter_number(entity=entity, kind=kind, requested=number)
                document.status = DocumentStatus.GENERATED
            elif number is not None:
                _check_number_free(entity=entity, kind=kind, number=number)
            document.save()
            for line in line_rows:
                line.document = document
            SalesDocumentLine.objects.bulk_create(line_rows)
            if kind == DocumentKind.REMISSION:  # a remission makes its own stock exit
                document.stock_movement = stock_exit(document=document, goods=exit_goods(document), user=user)
                document.save(update_fields=["stock_movement"])
    except IntegrityError as exc:
        # A concurrent request with the same key won the race: answer with its document.
        existing = SalesDocument.objects.filter(
            company=entity.company, idempotency_key=idempotency_key
        ).first()
        if idempotency_key and existing:
            return _replay(existing, idempotency_fingerprint, kind), False
        if source is not None:
            raise _already_invoiced(source) from exc
        raise
    return document, True


def check_substitutable(*, invoice: SalesDocument, kind: str, entity: SalesEntity) -> None:
    """An invoice may be made as the substitute of a stamped invoice of the same company (SAT's
    cancellation motive 01: its CFDI carries TipoRelacion 04 with the UUID it replaces)."""
    if kind != DocumentKind.INVOICE:
        raise DomainError(
            "sustitucion_no_aplica", "Solo una factura puede sustituir a otra.", field="substitutes"
        )
    if invoice.kind != DocumentKind.INVOICE or invoice.company_id != entity.company_id:
        raise DomainError(
            "sustitucion_invalida",
            "La factura que se sustituye no es una factura de esta empresa.",
            field="substitutes",
        )
    if invoice.status == DocumentStatus.CANCELLED:
        raise DomainError(
            "sustitucion_invalida",
            f"La factura {invoice} ya está cancelada.",
            status=409,
            field="substitutes",
        )
    if not stamped_uuid_of(invoice):
        raise DomainError(
            "sustitucion_sin_cfdi",
            f"La factura {invoice} no tiene un CFDI timbrado: solo se sustituye una factura timbrada.",
            status=409,
            field="substitutes",
        )


IDEMPOTENCY_KEY_MAX = 80  # SalesDocument.idempotency_key


def check_idempotency_key(key: str | None) -> None:
    if key and len(key) > IDEMPOTENCY_KEY_MAX:
        raise DomainError(
            "idempotencia_clave_larga",
            f"La clave de idempotencia admite hasta {IDEMPOTENCY_KEY_MAX} caracteres; esta tiene {len(key)}.",
        )


def _replay(existing: SalesDocument, fingerprint: str, kind: str) -> SalesDocument:
    """The document a repeated key made, if the request is the same one (same kind and data)."""
    if existing.kind != kind:
        raise DomainError(
            "idempotencia_conflicto",
            f"La clave de idempotencia ya se usó en {existing}; use una clave nueva para cada documento.",
            status=409,
        )
    if fingerprint and existing.idempotency_fingerprint and fingerprint != existing.idempotency_fingerprint:
        raise DomainError(
            "idempotencia_conflicto",
            "La clave de idempotencia ya se usó con otros datos; use una clave nueva.",
            status=409,
        )
    return existing


def exit_goods(document: SalesDocument) -> list[SalesDocumentLine]:
    """The lines that leave the warehouse: the goods (services move no stock), none when the
    entity keeps no stock movements."""
    if document.entity.no_stock_movements:
        return []
    return [line for line in document.lines.select_related("product") if not line.product.is_service]


def stock_exit(*, document: SalesDocument, goods: list[SalesDocumentLine], user=None, cost_account=None):
    """The stock exit of an invoice or a remission (``goods``: its ``exit_goods``), if it has any.
    The warehouse posts the cost entry when linked, against ``cost_account`` (the VEN_COSTO
    variable's account, looked up when not given)."""
    if not goods:
        return None
    return create_stock_movement(
        company=document.company,
        warehouse=document.warehouse,
        kind="exit",
        date=document.date,
        concept=f"Salida por {document} {document.customer_name}"[:300],
        origin=document.origin_reference,
        lines=[{"product": line.product, "quantity": line.quantity} for line in goods],
        user=user,
        counterpart_account=cost_account,
    )


def _check_number_free(*, entity, kind, number) -> None:
    if SalesDocument.objects.filter(entity=entity, kind=kind, number=number).exists():
        raise DomainError(
            "numero_duplicado", f"El número {number} ya existe en esta entidad de venta.", status=409
        )


def _take_counter_number(*, entity, kind, requested) -> int:
    counter, _ = DocumentCounter.objects.get_or_create(entity=entity, kind=kind)
    counter = DocumentCounter.objects.select_for_update().get(pk=counter.pk)
    if requested is None:
        number = counter.next_number
    else:
        _check_number_free(entity=entity, kind=kind, number=requested)
        number = requested
    counter.next_number = max(counter.next_number, number + 1)
    counter.save(update_fields=["next_number"])
    return number


_TAKE_FREE_SQL = """
    UPDATE {entities} SET next_number = next_number + 1
    WHERE id = %s AND NOT EXISTS (
        SELECT 1 FROM {documents} d
        WHERE d.entity_id = {entities}.id AND d.kind = %s AND d.number = {entities}.next_number
    )
    RETURNING next_number - 1
"""


def _take_next_free(*, entity_id: int) -> int | None:
    """The usual case in one statement (Postgres and SQLite 3.35+): bump the entity's consecutive
    under its row lock unless a draft reserved it; None when one did (read the reserved ones)."""
    sql = _TAKE_FREE_SQL.format(
        entities=connection.ops.quote_name(SalesEntity._meta.db_table),
        documents=connection.ops.quote_name(SalesDocument._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [entity_id, DocumentKind.INVOICE])
        row = cursor.fetchone()
    return row[0] if row else None


def take_invoice_number(*, document: SalesDocument) -> int:
    """Number an invoice at posting: the entity's consecutive, taken under the entity's row lock
    so concurrent postings get consecutive numbers with no gap and no duplicate."""
    if document.number is None:
        number = _take_next_free(entity_id=document.entity_id)
        if number is not None:
            return number
    invoices = SalesDocument.objects.filter(entity=document.entity_id, kind=DocumentKind.INVOICE)
    # One query locks the entity and tells whether a draft reserved its next number (entities
    # that allow typing the number); only then are the reserved numbers read.
    entity = (
        SalesEntity.objects.select_for_update()
        .annotate(next_reserved=Exists(invoices.filter(number=OuterRef("next_number"))))
        .values("pk", "next_number", "next_reserved")
        .get(pk=document.entity_id)
    )
    number = document.number
    if number is None:
        number = entity["next_number"]
        if entity["next_reserved"]:
            reserved = set(invoices.filter(number__gte=number).values_list("number", flat=True))
            while number in reserved:
                number += 1
    if number >= entity["next_number"]:
        SalesEntity.objects.filter(pk=entity["pk"]).update(next_number=number + 1)
    return number


def can_post(document: SalesDocument) -> bool:
    return document.kind == DocumentKind.INVOICE and document.status == DocumentStatus.DRAFT


def _already_invoiced(source: SalesDocument) -> DomainError:
    return DomainError(
        "documento_ya_facturado",
        f"{source} ya fue facturado; cancele la factura para poder facturarlo de nuevo.",
        status=409,
    )


def generate_invoice_from(
    *, source: SalesDocument, date: date_type | None = None, user=None, idempotency_key: str | None = None
) -> SalesDocument:
    """A draft invoice with the source's header and lines, linked to it (invoiced only once)."""
    if source.kind == DocumentKind.INVOICE:
        raise DomainError("origen_invalido", "Solo se facturan cotizaciones, pedidos o remisiones.")
    check_idempotency_key(idempotency_key)
    if idempotency_key:  # a repeated request answers the invoice the first one generated
        existing = SalesDocument.objects.filter(
            company=source.company, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return _replay(existing, f"generate-invoice:{source.pk}", DocumentKind.INVOICE)
    if source.status == DocumentStatus.CANCELLED:
        raise DomainError("origen_cancelado", f"{source} está cancelado.", status=409)
    if (
        source.generated_documents.filter(kind=DocumentKind.INVOICE)
        .exclude(status=DocumentStatus.CANCELLED)
        .exists()
    ):
        raise _already_invoiced(source)
    requests = [
        LineRequest(
            product_code=line.code,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_rate=line.discount_rate,
            iva_rate=line.iva_rate,
            description=line.description,
            observations=line.observations,
        )
        for line in source.lines.all()
    ]
    document, _ = create_document(
        kind=DocumentKind.INVOICE,
        entity=source.entity,
        customer=source.customer,
        date=date or timezone.localdate(),
        lines=requests,
        payment=source.payment,
        currency=source.currency,
        exchange_rate=source.exchange_rate,
        reference=source.reference,
        delivery_date=source.delivery_date,
        salesperson=source.salesperson,
        observations=source.observations,
        user=user,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=f"generate-invoice:{source.pk}" if idempotency_key else "",
        source=source,
    )
    return document
