from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounting.models import Account
from erp import taxes
from erp.linking import check_ledger_link
from erp.models import CompanyOwned
from erp.validators import validate_cfdi_text, validate_clave_prod_serv, validate_clave_unidad

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
    description = models.CharField(_("descripción"), max_length=1000, validators=[validate_cfdi_text])
    line = models.ForeignKey(
        ProductLine, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("línea")
    )
    unit = models.CharField(_("unidad"), max_length=20, help_text=_("Unidad interna, p. ej. PZA, KG."))
    sat_product_key = models.CharField(
        _("ClaveProdServ SAT"), max_length=8, validators=[validate_clave_prod_serv]
    )
    sat_unit_key = models.CharField(_("ClaveUnidad SAT"), max_length=3, validators=[validate_clave_unidad])
    is_service = models.BooleanField(_("es servicio"), default=False)
    applies_iva = models.BooleanField(
        _("aplica IVA"), default=True, help_text=_("Se deriva del tratamiento de IVA: gravado o tasa 0%.")
    )
    iva_treatment = models.CharField(
        _("tratamiento de IVA"), max_length=10, choices=taxes.IVA_TREATMENTS, default=taxes.IVA_TAXED
    )
    tax_operation = models.CharField(
        _("tipo de operación"),
        max_length=15,
        choices=taxes.OPERATIONS,
        default=taxes.OPERATION_GOODS,
        help_text=_(
            "Decide las retenciones junto con el emisor y el receptor (honorarios, arrendamiento, "
            "fletes, servicios de personal)."
        ),
    )
    ieps_rate = models.DecimalField(_("IEPS %"), **RATE)
    ieps_quota = models.DecimalField(
        _("IEPS cuota por unidad"),
        max_digits=12,
        decimal_places=6,
        default=0,
        help_text=_("Pesos por unidad (TipoFactor Cuota, p. ej. combustibles); sustituye al IEPS %."),
    )
    # Kept for data synced from older systems; retentions are decided by erp.taxes.RETENTION_RULES
    # from tax_operation and the parties, never read from these.
    retained_iva_rate = models.DecimalField(_("retención de IVA % (sin uso)"), **RATE)
    retained_isr_rate = models.DecimalField(_("retención de ISR % (sin uso)"), **RATE)
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
                condition=models.Q(ieps_quota__gte=0), name="product_ieps_quota_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(ieps_rate__gte=0, retained_iva_rate__gte=0, retained_isr_rate__gte=0),
                name="product_rates_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description[:60]}"

    def save(self, *args, **kwargs):
        # applies_iva is the older flag some callers still set when creating: false means "no
        # objeto". Afterwards the treatment is the one source and the flag follows it.
        if self._state.adding and not self.applies_iva and self.iva_treatment == taxes.IVA_TAXED:
            self.iva_treatment = taxes.IVA_NOT_OBJECT
        self.applies_iva = self.iva_treatment in (taxes.IVA_TAXED, taxes.IVA_ZERO)
        super().save(*args, **kwargs)

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


class StockMovement(CompanyOwned):
    """An entry into or an exit from a warehouse. Generated, then audited by a manager of the
    warehouse (the physical movement happened), or reverted (its stock effect undone); a
    reverted movement can only be cancelled."""

    class Kind(models.TextChoices):
        ENTRY = "entry", _("Entrada")
        EXIT = "exit", _("Salida")

    class Status(models.TextChoices):
        GENERATED = "generated", _("Generado")
        AUDITED = "audited", _("Auditado")
        REVERTED = "reverted", _("Revertido")
        CANCELLED = "cancelled", _("Cancelado")

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="movements", verbose_name=_("bodega")
    )
    kind = models.CharField(_("tipo"), max_length=5, choices=Kind.choices)
    date = models.DateField(_("fecha"))
    concept = models.CharField(_("concepto"), max_length=300)
    origin = models.CharField(
        _("origen"), max_length=120, blank=True, help_text=_("Referencia «Módulo|ID|Entidad||».")
    )
    status = models.CharField(_("estatus"), max_length=10, choices=Status.choices, default=Status.GENERATED)
    total_cost = models.DecimalField(_("costo total"), max_digits=18, decimal_places=2, default=0)
    journal_entry = models.ForeignKey(
        "accounting.JournalEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("póliza de costo"),
    )
    created_at = models.DateTimeField(_("registrado el"), auto_now_add=True)

    class Meta:
        verbose_name = _("movimiento al almacén")
        verbose_name_plural = _("movimientos al almacén")
        ordering = ["company", "-date", "-pk"]
        indexes = [models.Index(fields=["warehouse", "date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} {self.warehouse.code}"

    @property
    def reference(self) -> str:
        return f"Almacén|{self.pk}|{self.warehouse.code}||"

    @property
    def sign(self) -> int:
        return 1 if self.kind == self.Kind.ENTRY else -1


class StockMovementLine(models.Model):
    # no index of its own: the unique (movement, position) serves lookups by movement
    movement = models.ForeignKey(
        StockMovement,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("movimiento"),
        db_index=False,
    )
    position = models.PositiveIntegerField(_("partida"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("producto")
    )
    quantity = models.DecimalField(_("cantidad"), max_digits=18, decimal_places=4)
    unit_cost = models.DecimalField(_("costo unitario"), max_digits=18, decimal_places=6)
    total_cost = models.DecimalField(_("costo"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("partida de movimiento")
        verbose_name_plural = _("partidas de movimiento")
        ordering = ["movement", "position"]
        constraints = [
            models.UniqueConstraint(fields=["movement", "position"], name="stock_line_position"),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0, unit_cost__gte=0), name="stock_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product.code}"


class StockMovementEvent(models.Model):
    """Who changed a movement's status and when (written in the same transaction as the change)."""

    class Action(models.TextChoices):
        CREATED = "created", _("Generado")
        AUDITED = "audited", _("Auditado")
        REVERTED = "reverted", _("Revertido")
        CANCELLED = "cancelled", _("Cancelado")

    movement = models.ForeignKey(
        StockMovement, on_delete=models.CASCADE, related_name="events", verbose_name=_("movimiento")
    )
    action = models.CharField(_("acción"), max_length=10, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("usuario"),
    )
    at = models.DateTimeField(_("fecha y hora"), auto_now_add=True)

    class Meta:
        verbose_name = _("historial del movimiento")
        verbose_name_plural = _("historial de movimientos")
        ordering = ["movement", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class StockLevel(CompanyOwned):
    """What a warehouse holds of a product and its weighted average unit cost."""

    # no index of its own: the unique (warehouse, product) serves lookups by warehouse
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="stock_levels",
        verbose_name=_("bodega"),
        db_index=False,
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("producto")
    )
    quantity = models.DecimalField(_("existencia"), max_digits=18, decimal_places=4, default=0)
    average_cost = models.DecimalField(_("costo promedio"), max_digits=18, decimal_places=6, default=0)

    class Meta:
        verbose_name = _("existencia")
        verbose_name_plural = _("existencias")
        ordering = ["warehouse", "product"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "product"], name="one_level_per_product_and_warehouse"
            ),
            models.CheckConstraint(condition=models.Q(average_cost__gte=0), name="average_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} @ {self.warehouse.code}: {self.quantity}"

    @property
    def value(self):
        return self.quantity * self.average_cost
