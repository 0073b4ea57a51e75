"""Quotes, orders, remissions and invoices: one structure (header + lines), one calculation."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.models import CompanyOwned, Currency
from erp.money import ZERO, quantize
from erp.taxes import DocumentTotals, LineInput, LineTaxes
from inventory.models import Product, StockMovement, Warehouse

from .models import Customer, SalesEntity, Salesperson

AMOUNT = {"max_digits": 18, "decimal_places": 2, "default": 0}
RATE = {"max_digits": 7, "decimal_places": 4, "default": 0}


class DocumentKind(models.TextChoices):
    QUOTE = "quote", _("Cotización")
    ORDER = "order", _("Pedido")
    REMISSION = "remission", _("Remisión")
    INVOICE = "invoice", _("Factura")


# The module name used in origin references "Módulo|ID|Entidad||".
ORIGIN_MODULE = {
    DocumentKind.QUOTE: "VCOT",
    DocumentKind.ORDER: "VPED",
    DocumentKind.REMISSION: "VREM",
    DocumentKind.INVOICE: "VFAC",
}


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("Borrador")
    GENERATED = "generated", _("Generada")
    EMITTED = "emitted", _("Emitida")
    REVERTED = "reverted", _("Revertida")
    CANCELLED = "cancelled", _("Cancelada")


class Payment(models.TextChoices):
    CASH = "cash", _("Contado")
    CREDIT = "credit", _("Crédito")
    NONE = "none", _("Sin método de pago")


class DocumentCounter(models.Model):
    """The next number of quotes, orders and remissions per entity (invoices use the entity's)."""

    entity = models.ForeignKey(SalesEntity, on_delete=models.CASCADE, related_name="counters")
    kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "kind"], name="one_counter_per_entity_kind")]

    def __str__(self) -> str:
        return f"{self.entity} {self.kind}: {self.next_number}"


class SalesDocument(CompanyOwned):
    kind = models.CharField(_("tipo"), max_length=10, choices=DocumentKind.choices)
    entity = models.ForeignKey(
        SalesEntity, on_delete=models.PROTECT, related_name="documents", verbose_name=_("entidad")
    )
    number = models.PositiveIntegerField(_("núm."), null=True, blank=True)
    series = models.CharField(_("serie"), max_length=25, blank=True)
    status = models.CharField(
        _("estatus"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT
    )
    reference = models.CharField(_("referencia"), max_length=60, blank=True)
    date = models.DateField(_("fecha"))
    delivery_date = models.DateField(_("fecha de entrega"), null=True, blank=True)
    payment = models.CharField(_("pago"), max_length=6, choices=Payment.choices, default=Payment.CASH)

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, verbose_name=_("cliente"))
    # The customer's data as it was when the document was made (the seed's informative fields).
    customer_number = models.PositiveIntegerField(_("núm. de cliente"))
    customer_rfc = models.CharField(_("RFC"), max_length=13)
    customer_name = models.CharField(_("nombre"), max_length=254)
    customer_address = models.CharField(_("dirección"), max_length=254, blank=True)
    customer_colonia = models.CharField(_("colonia"), max_length=120, blank=True)
    customer_poblacion = models.CharField(_("población"), max_length=120, blank=True)
    customer_postal_code = models.CharField(_("C.P."), max_length=5)
    customer_phones = models.CharField(_("teléfonos"), max_length=120, blank=True)
    customer_regimen_fiscal = models.CharField(_("régimen fiscal del cliente"), max_length=3)
    customer_uso_cfdi = models.CharField(_("uso del CFDI"), max_length=4)

    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, verbose_name=_("moneda"))
    exchange_rate = models.DecimalField(_("TC"), max_digits=18, decimal_places=6, default=1)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("bodega")
    )
    salesperson = models.ForeignKey(
        Salesperson, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("vendedor")
    )
    observations = models.TextField(_("observaciones"), blank=True)

    importe = models.DecimalField(_("importe"), **AMOUNT)
    discount = models.DecimalField(_("descuento"), **AMOUNT)
    subtotal = models.DecimalField(_("sub total"), **AMOUNT)
    iva = models.DecimalField(_("IVA"), **AMOUNT)
    ieps = models.DecimalField(_("IEPS"), **AMOUNT)
    retained_iva = models.DecimalField(_("retención IVA"), **AMOUNT)
    retained_isr = models.DecimalField(_("retención ISR"), **AMOUNT)
    total = models.DecimalField(_("total"), **AMOUNT)

    source = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="generated_documents",
        verbose_name=_("documento origen"),
    )
    origin_ref = models.CharField(_("ref. origen"), max_length=80, blank=True)
    substitutes = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="substitutions",
        verbose_name=_("sustituye a la factura"),
        help_text=_(
            "Factura timbrada que esta sustituye: su CFDI lleva CfdiRelacionados con TipoRelacion 04 "
            "y aquella se cancela con el motivo 01."
        ),
    )
    stock_movement = models.ForeignKey(
        StockMovement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("movimiento al almacén"),
    )
    ticket = models.BooleanField(
        _("ticket (sin CFDI propio)"),
        default=False,
        help_text=_("Venta de mostrador que entra en la factura global, salvo que se facture por separado."),
    )
    cfdi_error = models.CharField(
        _("error al sellar"),
        max_length=1000,
        blank=True,
        help_text=_("Código y mensaje del último intento fallido."),
    )
    idempotency_key = models.CharField(_("clave de idempotencia"), max_length=80, null=True, blank=True)
    idempotency_fingerprint = models.CharField(_("huella de la solicitud"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("capturado por"),
    )
    created_at = models.DateTimeField(_("capturado el"), auto_now_add=True)
    posted_at = models.DateTimeField(_("contabilizado el"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelado el"), null=True, blank=True)

    class Meta:
        verbose_name = _("documento de venta")
        verbose_name_plural = _("documentos de venta")
        ordering = ["-date", "-number"]
        indexes = [
            models.Index(fields=["entity", "kind", "date"]),
            # The lists' order (API, admin, cashier): a page is read off the index, not sorted.
            models.Index(fields=["-date", "-number"], name="document_list_order"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "kind", "number"], name="document_number_per_entity_kind"
            ),
            models.UniqueConstraint(
                fields=["company", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="document_idempotency_key_per_company",
            ),
            models.UniqueConstraint(
                fields=["source"],
                condition=models.Q(kind="invoice") & ~models.Q(status="cancelled"),
                name="source_invoiced_once",
            ),
            models.CheckConstraint(
                condition=models.Q(exchange_rate__gt=0), name="document_exchange_rate_positive"
            ),
            models.CheckConstraint(condition=models.Q(total__gte=0), name="document_total_not_negative"),
            models.CheckConstraint(
                condition=models.Q(delivery_date__isnull=True)
                | models.Q(delivery_date__gte=models.F("date")),
                name="delivery_not_before_date",
            ),
        ]

    def __str__(self) -> str:
        number = f"{self.series}{self.number}" if self.number else f"#{self.pk}"
        return f"{self.get_kind_display()} {number}"

    @property
    def effective_status(self) -> str:
        """The status the seed's lists show: a Generada invoice whose stock exit the warehouse
        audited is Emitida, and Revertida when the warehouse reverted it. The exit's audit is the
        warehouse's own transition (inventory knows nothing of sales), so it is read, not copied."""
        if self.status == DocumentStatus.GENERATED and self.stock_movement_id:
            exit_status = self.stock_movement.status
            if exit_status == StockMovement.Status.AUDITED:
                return DocumentStatus.EMITTED
            if exit_status == StockMovement.Status.REVERTED:
                return DocumentStatus.REVERTED
        return self.status

    @property
    def origin_reference(self) -> str:
        """How other records point at this document: "Módulo|ID|Entidad||"."""
        return f"{ORIGIN_MODULE[self.kind]}|{self.pk}|{self.entity.code}||"


# The customer's data a document keeps as it was when the document was made (the seed's
# informative fields ``customer_<name>``): an invoice copies them from the customer, a credit note
# from its invoice.
CUSTOMER_SNAPSHOT = (
    "number", "rfc", "name", "address", "colonia", "poblacion", "postal_code", "phones",
    "regimen_fiscal", "uso_cfdi",
)  # fmt: skip


def set_totals(document, totals: DocumentTotals) -> None:
    """A document's (an invoice's, a credit note's) totals as erp.taxes computed them."""
    document.importe, document.discount, document.subtotal = totals.importe, totals.discount, totals.subtotal
    document.iva, document.ieps = totals.iva, totals.ieps
    document.retained_iva, document.retained_isr = totals.retained_iva, totals.retained_isr
    document.total = totals.total


# The tax fields a line carries, the same on an invoice line and on the credit-note line copied
# from it: what erp.taxes (LineInput) and the CFDI concept (cfdi.description.Concept) take.
LINE_TAX_FIELDS = (
    "iva_rate", "iva_exempt", "ieps_rate", "ieps_quota", "retained_iva_rate", "retained_isr_rate",
)  # fmt: skip


def line_tax_fields(line) -> dict:
    """The line's tax fields by name, ready for ``LineInput(**…)`` or ``Concept(**…)``."""
    return {name: getattr(line, name) for name in LINE_TAX_FIELDS}


class TaxedLine(models.Model):
    """A line as erp.taxes computes it: the product, quantity and price, the tax fields and the
    amounts. The same fields, precisions and labels on an invoice line and on the credit-note line
    copied from it (sales.returns), declared once here; each concrete line adds its document, its
    position and its own constraints. Abstract: no table of its own, no schema change."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("producto"))
    code = models.CharField(_("clave"), max_length=30)
    unit = models.CharField(_("unidad"), max_length=20)
    description = models.CharField(_("descripción"), max_length=1000)
    quantity = models.DecimalField(_("cantidad"), max_digits=18, decimal_places=6)
    unit_price = models.DecimalField(_("precio"), max_digits=18, decimal_places=6)
    discount_rate = models.DecimalField(_("desc. %"), **RATE)
    iva_rate = models.DecimalField(_("IVA %"), max_digits=7, decimal_places=4, null=True, blank=True)
    iva_exempt = models.BooleanField(_("IVA exento"), default=False)
    ieps_rate = models.DecimalField(_("IEPS %"), **RATE)
    ieps_quota = models.DecimalField(_("IEPS cuota"), max_digits=12, decimal_places=6, default=0)
    retained_iva_rate = models.DecimalField(_("R/IVA %"), **RATE)
    retained_isr_rate = models.DecimalField(_("R/ISR %"), **RATE)
    importe = models.DecimalField(_("importe"), **AMOUNT)
    discount = models.DecimalField(_("descuento"), **AMOUNT)
    iva = models.DecimalField(_("IVA"), **AMOUNT)
    ieps = models.DecimalField(_("IEPS"), **AMOUNT)
    retained_iva = models.DecimalField(_("R/IVA"), **AMOUNT)
    retained_isr = models.DecimalField(_("R/ISR"), **AMOUNT)
    observations = models.CharField(_("observaciones"), max_length=254, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.quantity} {self.unit} {self.code}"

    def tax_input(self, decimals: int) -> LineInput:
        """What erp.taxes takes for this line: its discount is ``discount_rate`` % of
        round(quantity × price), rounded to the currency's ``decimals``."""
        importe = quantize(self.quantity * self.unit_price, decimals) if self.quantity > 0 else ZERO
        return LineInput(
            quantity=self.quantity,
            unit_price=self.unit_price,
            discount=quantize(importe * self.discount_rate / 100, decimals),
            **line_tax_fields(self),
        )

    def set_amounts(self, taxes: LineTaxes) -> None:
        """The amounts erp.taxes computed for this line."""
        self.importe, self.discount = taxes.importe, taxes.discount
        self.iva, self.ieps = taxes.iva, taxes.ieps
        self.retained_iva, self.retained_isr = taxes.retained_iva, taxes.retained_isr


class SalesDocumentLine(TaxedLine):
    document = models.ForeignKey(SalesDocument, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("partida"))

    class Meta:
        verbose_name = _("partida")
        verbose_name_plural = _("partidas")
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="line_position_per_document"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="line_price_not_negative"),
        ]
