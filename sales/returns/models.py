"""Returns and rebates on sales (the seed's "Devolver y Rebajar Factura"): a credit note points at
its invoice, copies the invoice's customer data, currency and warehouse, and keeps per line the
invoice line it returns or rebates."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.models import CompanyOwned, Currency
from inventory.models import StockMovement, Warehouse

from ..document_models import AMOUNT, TaxedLine

# The module name in origin references "Módulo|ID|Entidad||" (invoices are "VFAC").
ORIGIN_MODULE = "VDEV"


class CreditNote(CompanyOwned):
    """A return (devolución) or a rebate (rebaja) on one posted invoice."""

    class Kind(models.TextChoices):
        RETURN = "return", _("Devolución")
        REBATE = "rebate", _("Rebaja")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Borrador")
        EMITTED = "emitted", _("Emitida")
        CANCELLED = "cancelled", _("Cancelada")

    kind = models.CharField(_("tipo"), max_length=6, choices=Kind.choices)
    invoice = models.ForeignKey(
        "sales.SalesDocument",
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("factura"),
    )
    entity = models.ForeignKey(
        "sales.SalesEntity", on_delete=models.PROTECT, related_name="+", verbose_name=_("entidad")
    )
    number = models.PositiveIntegerField(_("no. nota de crédito"), null=True, blank=True)
    series = models.CharField(_("serie"), max_length=25, blank=True)
    status = models.CharField(_("estatus"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    reference = models.CharField(_("referencia"), max_length=60, blank=True)
    date = models.DateField(_("fecha"))
    delivery_date = models.DateField(_("fecha de entrega"), null=True, blank=True)
    payment = models.CharField(_("pago"), max_length=6)  # the invoice's (sales.Payment)

    customer = models.ForeignKey(
        "sales.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("cliente")
    )
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
    observations = models.TextField(_("observaciones"), blank=True)

    importe = models.DecimalField(_("importe"), **AMOUNT)
    discount = models.DecimalField(_("descuento"), **AMOUNT)
    subtotal = models.DecimalField(_("sub total"), **AMOUNT)
    iva = models.DecimalField(_("IVA"), **AMOUNT)
    ieps = models.DecimalField(_("IEPS"), **AMOUNT)
    retained_iva = models.DecimalField(_("retención IVA"), **AMOUNT)
    retained_isr = models.DecimalField(_("retención ISR"), **AMOUNT)
    total = models.DecimalField(_("total"), **AMOUNT)

    stock_movement = models.ForeignKey(
        StockMovement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entrada al almacén"),
    )
    cfdi_error = models.CharField(_("error al sellar"), max_length=1000, blank=True)
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
        verbose_name = _("devolución o rebaja sobre venta")
        verbose_name_plural = _("devoluciones sobre ventas")
        ordering = ["-date", "-number"]
        indexes = [models.Index(fields=["entity", "date"])]
        constraints = [
            models.UniqueConstraint(fields=["entity", "number"], name="credit_note_number_per_entity"),
            models.CheckConstraint(
                condition=models.Q(exchange_rate__gt=0), name="credit_note_exchange_rate_positive"
            ),
            models.CheckConstraint(condition=models.Q(total__gte=0), name="credit_note_total_not_negative"),
            models.CheckConstraint(
                condition=models.Q(delivery_date__isnull=True)
                | models.Q(delivery_date__gte=models.F("date")),
                name="credit_note_delivery_not_before_date",
            ),
        ]

    def __str__(self) -> str:
        number = f"{self.series}{self.number}" if self.number else f"#{self.pk}"
        return f"{self.get_kind_display()} {number}"

    @property
    def origin_reference(self) -> str:
        """How other records point at this credit note: "VDEV|ID|Entidad||"."""
        return f"{ORIGIN_MODULE}|{self.pk}|{self.entity.code}||"


class CreditNoteLine(TaxedLine):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("partida"))
    invoice_line = models.ForeignKey(
        "sales.SalesDocumentLine",
        on_delete=models.PROTECT,
        related_name="credit_lines",
        verbose_name=_("partida de la factura"),
    )

    class Meta:
        verbose_name = _("partida")
        verbose_name_plural = _("partidas")
        ordering = ["credit_note", "position"]
        constraints = [
            models.UniqueConstraint(fields=["credit_note", "position"], name="credit_line_position"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="credit_line_quantity_positive"),
            models.CheckConstraint(condition=models.Q(unit_price__gt=0), name="credit_line_price_positive"),
        ]
