from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounting.models import Account
from erp.linking import check_ledger_link
from erp.models import CompanyOwned
from erp.validators import validate_clave_prod_serv, validate_clave_unidad

RATE = {"max_digits": 7, "decimal_places": 4, "default": 0}


class ProductLine(CompanyOwned):
    code = models.CharField(_("clave"), max_length=20)
    name = models.CharField(_("nombre"), max_length=120)

    class Meta:
        verbose_name = _("línea de productos")
        verbose_name_plural = _("líneas de productos")
        ordering = ["company", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="product_line_code_per_company")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Product(CompanyOwned):
    """A product or service with its SAT keys and tax profile (rates in percent)."""

    code = models.CharField(_("clave"), max_length=30)
    supplier_code = models.CharField(_("clave del proveedor"), max_length=30, blank=True)
    description = models.CharField(_("descripción"), max_length=1000)
    line = models.ForeignKey(
        ProductLine, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("línea")
    )
    unit = models.CharField(_("unidad"), max_length=20, help_text=_("Unidad interna, p. ej. PZA, KG."))
    sat_product_key = models.CharField(
        _("ClaveProdServ SAT"), max_length=8, validators=[validate_clave_prod_serv]
    )
    sat_unit_key = models.CharField(_("ClaveUnidad SAT"), max_length=3, validators=[validate_clave_unidad])
    is_service = models.BooleanField(_("es servicio"), default=False)
    applies_iva = models.BooleanField(_("aplica IVA"), default=True)
    ieps_rate = models.DecimalField(_("IEPS %"), **RATE)
    retained_iva_rate = models.DecimalField(_("retención de IVA %"), **RATE)
    retained_isr_rate = models.DecimalField(_("retención de ISR %"), **RATE)
    list_price = models.DecimalField(_("precio de lista"), max_digits=18, decimal_places=6, default=0)
    active = models.BooleanField(_("activo"), default=True)
    external_key = models.CharField(
        _("clave externa"), max_length=60, blank=True, help_text=_("Clave en el sistema sincronizado.")
    )

    class Meta:
        verbose_name = _("producto o servicio")
        verbose_name_plural = _("productos y servicios")
        ordering = ["company", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="product_code_per_company"),
            models.UniqueConstraint(
                fields=["company", "external_key"],
                condition=~models.Q(external_key=""),
                name="product_external_key_per_company",
            ),
            models.CheckConstraint(condition=models.Q(list_price__gte=0), name="list_price_not_negative"),
            models.CheckConstraint(
                condition=models.Q(ieps_rate__gte=0, retained_iva_rate__gte=0, retained_isr_rate__gte=0),
                name="product_rates_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description[:60]}"

    def clean(self):
        if self.line_id and self.line.company_id != self.company_id:
            raise ValidationError({"line": _("La línea es de otra empresa.")})
        if self.retained_iva_rate > 16:
            raise ValidationError({"retained_iva_rate": _("La retención de IVA no puede exceder 16%.")})
        if self.retained_isr_rate > 35:
            raise ValidationError({"retained_isr_rate": _("La retención de ISR no puede exceder 35%.")})


class Warehouse(CompanyOwned):
    """A bodega. Linked to accounting, its movements post cost entries to its inventory account."""

    code = models.CharField(_("clave"), max_length=20)
    short_name = models.CharField(_("nombre corto"), max_length=40)
    linked_to_accounting = models.BooleanField(_("enlazada a contabilidad"), default=True)
    inventory_account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cuenta de inventario"),
    )
    allow_negative_stock = models.BooleanField(_("permite existencias negativas"), default=False)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="managed_warehouses",
        verbose_name=_("encargados (auditan movimientos)"),
    )
    active = models.BooleanField(_("activa"), default=True)

    class Meta:
        verbose_name = _("bodega")
        verbose_name_plural = _("bodegas")
        ordering = ["company", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="warehouse_code_per_company")]

    def __str__(self) -> str:
        return f"{self.code} {self.short_name}"

    def clean(self):
        check_ledger_link(
            self,
            flag="linked_to_accounting",
            account_field="inventory_account",
            label="cuenta de inventario",
        )
