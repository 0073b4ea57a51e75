"""The template of an invoice built from a CFDI stamped elsewhere, and the product codes each
customer's concepts map to (learned each time such an invoice is accepted)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.models import CompanyOwned
from inventory.models import Product

from ..document_models import SalesDocument
from ..external_models import ExternalCfdi
from ..models import Customer


class XmlInvoice(CompanyOwned):
    """The seed's "plantilla de registro de factura": the header taken from the XML and one line
    per concept; quantities, prices and taxes are always read from the XML itself."""

    external = models.ForeignKey(
        ExternalCfdi, on_delete=models.PROTECT, related_name="xml_invoices", verbose_name=_("CFDI externo")
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, verbose_name=_("cliente"))
    reference = models.CharField(_("referencia"), max_length=60, default="s/r")
    observations = models.TextField(_("observaciones"), blank=True)
    invoice = models.OneToOneField(
        SalesDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="xml_template",
        verbose_name=_("factura agregada"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("creada"), auto_now_add=True)

    class Meta:
        verbose_name = _("factura desde XML")
        verbose_name_plural = _("facturas desde XML")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["external"],
                condition=models.Q(invoice__isnull=True),
                name="one_open_xml_invoice_per_cfdi",
            )
        ]

    def __str__(self) -> str:
        return f"Plantilla {self.external.uuid}"


class XmlInvoiceLine(models.Model):
    template = models.ForeignKey(XmlInvoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("partida"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("clave")
    )
    description = models.CharField(_("descripción del concepto"), max_length=1000)

    class Meta:
        verbose_name = _("partida de la plantilla")
        verbose_name_plural = _("partidas de la plantilla")
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="xml_line_position_per_template")
        ]

    def __str__(self) -> str:
        return f"{self.position} {self.product.code if self.product else '(sin clave)'}"


class ProductAssociation(CompanyOwned):
    """A customer's concept (its NoIdentificacion, or its description) and the product code it is
    sold as: "la asociación de nuestras claves, con la clave o descripción de cada concepto"."""

    class Kind(models.TextChoices):
        SKU = "sku", _("clave del concepto (NoIdentificacion)")
        DESCRIPTION = "description", _("descripción del concepto")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="product_associations", verbose_name=_("cliente")
    )
    kind = models.CharField(_("por"), max_length=12, choices=Kind.choices)
    key = models.CharField(_("clave o descripción del cliente"), max_length=1000)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("producto"))
    updated_at = models.DateTimeField(_("actualizada"), auto_now=True)

    class Meta:
        verbose_name = _("asociación de producto")
        verbose_name_plural = _("asociaciones de productos")
        ordering = ["customer", "kind", "key"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "key"], name="one_association_per_concept")
        ]

    def __str__(self) -> str:
        return f"{self.customer.number}: {self.key[:40]} → {self.product.code}"

    def clean(self):
        self.key = " ".join((self.key or "").split()).upper()
        if not self.key:
            raise ValidationError({"key": _("Indique la clave o la descripción del concepto.")})
        if self.customer_id and self.customer.company_id != self.company_id:
            raise ValidationError({"customer": _("El cliente es de otra empresa.")})
        if self.product_id and self.product.company_id != self.company_id:
            raise ValidationError({"product": _("El producto es de otra empresa.")})
