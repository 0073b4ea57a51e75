from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cashbank.models import CashBankAccount
from erp import sat_catalogs
from erp.models import CompanyOwned
from erp.rfc import (
    RFC_PUBLICO_GENERAL,
    check_digit,
    check_digit_ok,
    is_generic_rfc,
    is_valid_rfc,
    normalize_rfc,
    person_type,
)
from erp.validators import (
    validate_cfdi_text,
    validate_forma_pago,
    validate_postal_code,
    validate_regimen_fiscal,
    validate_rfc,
    validate_uso_cfdi,
)
from inventory.models import Warehouse

# Receivables live in a module of their own; importing them here registers them with the app.
from .receivables.models import Receivable, ReceivableRecord  # noqa: F401

COUNTER_CUSTOMER_NUMBER = 0
COUNTER_CUSTOMER_NAME = "PUBLICO EN GENERAL"
# Ten years of credit: beyond any real term, and far inside the calendar (a due date of
# 2147483647 days overflows the year 9999).
MAX_CREDIT_DAYS = 3650


def _same_company(instance, field: str, label: str) -> None:
    related = getattr(instance, field)
    if related is not None and related.company_id != instance.company_id:
        raise ValidationError({field: _("%(label)s es de otra empresa.") % {"label": label}})


class Salesperson(CompanyOwned):
    """A salesperson. Number 0 is the system's "no salesperson": an empty salesperson field."""

    number = models.PositiveIntegerField(_("número"), validators=[MinValueValidator(1)])
    name = models.CharField(_("nombre"), max_length=120)
    active = models.BooleanField(_("activo"), default=True)

    class Meta:
        verbose_name = _("vendedor")
        verbose_name_plural = _("vendedores")
        ordering = ["company", "number"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="salesperson_number_per_company"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="salesperson_zero_reserved"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class SalesEntity(CompanyOwned):
    """A sales point with its own series and consecutive, accounting mode and warehouse."""

    class Mode(models.TextChoices):
        CONTABLE = "contable", _("Contable (enlazada a contabilidad)")
        FIJA = "fija", _("Fija (no contable)")

    code = models.CharField(_("clave"), max_length=20)
    name = models.CharField(_("nombre"), max_length=120)
    series = models.CharField(
        _("serie"),
        max_length=25,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9]*$", _("La serie solo admite letras y números."))],
    )
    next_number = models.PositiveIntegerField(
        _("siguiente consecutivo"), default=1, validators=[MinValueValidator(1)]
    )
    allow_number_change = models.BooleanField(
        _("permitir cambiar el consecutivo al momento de facturar"), default=False
    )
    iva_rate = models.DecimalField(
        _("IVA %"),
        max_digits=5,
        decimal_places=2,
        default=16,
        validators=[MinValueValidator(0), MaxValueValidator(16)],
    )
    postal_code = models.CharField(
        _("lugar de expedición (C.P.)"),
        max_length=5,
        blank=True,
        validators=[validate_postal_code],
        help_text=_("Código postal desde el que factura esta entidad; vacío: el de la empresa."),
    )
    mode = models.CharField(_("tipo"), max_length=8, choices=Mode.choices, default=Mode.CONTABLE)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("bodega")
    )
    salesperson = models.ForeignKey(
        Salesperson,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("vendedor"),
        help_text=_("Vacío: vendedor 0, ningún vendedor."),
    )
    no_stock_movements = models.BooleanField(
        _("no manejar movimientos al almacén de productos"), default=False
    )
    cash_accounts = models.ManyToManyField(
        CashBankAccount, blank=True, verbose_name=_("cajas y bancos para cobrar")
    )
    # Counter sales as tickets and their global invoice (issue 17).
    counter_tickets = models.BooleanField(
        _("ventas de mostrador como tickets (sin CFDI propio)"),
        default=False,
        help_text=_(
            "Las ventas al cliente 0 (público en general) se agregan sin timbrar; la factura global "
            "del periodo las agrupa en un solo CFDI."
        ),
    )
    global_periodicity = models.CharField(
        _("periodicidad de la factura global"),
        max_length=2,
        default="01",
        choices=[
            ("01", _("Diario")),
            ("02", _("Semanal")),
            ("03", _("Quincenal")),
            ("04", _("Mensual")),
            ("05", _("Bimestral")),
        ],
    )
    global_schedule = models.BooleanField(
        _("emitir la factura global automáticamente"),
        default=False,
        help_text=_("Al terminar cada periodo se emite la factura global de sus tickets sin facturar."),
    )
    active = models.BooleanField(_("activa"), default=True)

    class Meta:
        verbose_name = _("entidad de venta")
        verbose_name_plural = _("entidades de venta")
        ordering = ["company", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="sales_entity_code_per_company"),
            models.CheckConstraint(condition=models.Q(next_number__gte=1), name="next_number_positive"),
            models.CheckConstraint(
                condition=models.Q(iva_rate__gte=0, iva_rate__lte=16), name="entity_iva_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_contable(self) -> bool:
        return self.mode == self.Mode.CONTABLE

    @property
    def place_of_issue(self) -> str:
        """LugarExpedicion of the entity's CFDIs: its own postal code, or the company's."""
        return self.postal_code or self.company.postal_code

    def frontier_refusal(self) -> str:
        """Why this entity may not charge the 8% frontier IVA ('' when it may): the company must
        have opted in to the Decreto de estímulos fiscales región fronteriza and the place of issue
        must be in SAT's frontier stimulus zone (c_CodigoPostal, EstímuloFranjaFronteriza)."""
        if not self.company.frontier_stimulus:
            return str(
                _(
                    "La empresa no está inscrita en el estímulo fiscal de la región fronteriza: no "
                    "puede trasladar IVA al 8%."
                )
            )
        if not sat_catalogs.frontier_stimulus(self.place_of_issue):
            return str(
                _(
                    "El lugar de expedición %(cp)s no está en la región fronteriza con estímulo del "
                    "SAT: el IVA al 8%% no está permitido."
                )
                % {"cp": self.place_of_issue}
            )
        return ""

    def clean(self):
        if self.company_id and self.iva_rate == 8:
            refusal = self.frontier_refusal()
            if refusal:
                raise ValidationError({"iva_rate": refusal})
        _same_company(self, "warehouse", _("La bodega"))
        _same_company(self, "salesperson", _("El vendedor"))
        if self.warehouse_id is None and not self.no_stock_movements:
            raise ValidationError(
                {
                    "warehouse": _(
                        "Indique la bodega, o marque que la entidad no maneja movimientos al almacén."
                    )
                }
            )


class Customer(CompanyOwned):
    """A customer of one sales entity. Number 0 is the counter customer (público en general)."""

    entity = models.ForeignKey(
        SalesEntity, on_delete=models.PROTECT, related_name="customers", verbose_name=_("entidad")
    )
    number = models.PositiveIntegerField(_("número"))
    rfc = models.CharField(_("RFC"), max_length=13, validators=[validate_rfc])
    name = models.CharField(_("nombre o razón social"), max_length=254, validators=[validate_cfdi_text])
    address = models.CharField(_("dirección"), max_length=254, blank=True)
    colonia = models.CharField(_("colonia"), max_length=120, blank=True)
    poblacion = models.CharField(_("población"), max_length=120, blank=True)
    postal_code = models.CharField(_("C.P."), max_length=5, validators=[validate_postal_code])
    phones = models.CharField(_("teléfonos"), max_length=120, blank=True)
    email = models.EmailField(_("correo electrónico"), blank=True)
    regimen_fiscal = models.CharField(_("régimen fiscal"), max_length=3, validators=[validate_regimen_fiscal])
    uso_cfdi = models.CharField(
        _("uso del CFDI"),
        max_length=4,
        blank=True,
        validators=[validate_uso_cfdi],
        help_text=_("En blanco solo si la empresa usa la versión 3.3 del Anexo 20 (por asignar)."),
    )
    forma_pago = models.CharField(
        _("forma de pago"), max_length=2, default="99", validators=[validate_forma_pago]
    )
    credit_days = models.PositiveIntegerField(
        _("días de crédito"), default=0, validators=[MaxValueValidator(MAX_CREDIT_DAYS)]
    )
    general_discount = models.DecimalField(
        _("descuento general %"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    salesperson = models.ForeignKey(
        Salesperson,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("vendedor"),
        help_text=_("Vacío: vendedor 0, ningún vendedor."),
    )
    external_key = models.CharField(_("clave externa"), max_length=60, blank=True)
    active = models.BooleanField(_("activo"), default=True)

    class Meta:
        verbose_name = _("cliente")
        verbose_name_plural = _("clientes")
        ordering = ["entity", "number"]
        # Sync connectors (QR, Wopen) and the XML import match customers by RFC.
        indexes = [models.Index(fields=["company", "rfc"], name="customer_company_rfc")]
        constraints = [
            models.UniqueConstraint(fields=["entity", "number"], name="customer_number_per_entity"),
            models.UniqueConstraint(
                fields=["company", "external_key"],
                condition=~models.Q(external_key=""),
                name="customer_external_key_per_company",
            ),
            models.CheckConstraint(
                condition=models.Q(general_discount__gte=0, general_discount__lte=100),
                name="customer_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def is_counter(self) -> bool:
        return self.number == COUNTER_CUSTOMER_NUMBER

    @property
    def person_type(self) -> str:
        return person_type(self.rfc)

    def clean(self, changed: Collection[str] | None = None):
        """The customer form's rules across fields. ``changed``: the fields whose values are new
        on a stored customer (a sync's update, which compared the source with the stored row):
        only the rules that read one of them run; a rule over unchanged values held when those
        values were stored. None (a new customer, the form): every rule."""

        changed = None if changed is None else frozenset(changed)

        def reads(*fields: str) -> bool:
            return changed is None or not changed.isdisjoint(fields)

        self.rfc = normalize_rfc(self.rfc)
        if reads("entity", "company") and self.entity_id and self.entity.company_id != self.company_id:
            raise ValidationError({"entity": _("La entidad de venta es de otra empresa.")})
        if reads("salesperson", "company"):
            _same_company(self, "salesperson", _("El vendedor"))
        if reads("number", "rfc") and self.is_counter and self.rfc != RFC_PUBLICO_GENERAL:
            raise ValidationError(
                {
                    "rfc": _("El cliente 0 (mostrador) lleva el RFC genérico %(rfc)s.")
                    % {"rfc": RFC_PUBLICO_GENERAL}
                }
            )
        self._clean_fiscal_data(reads)

    def _clean_fiscal_data(self, reads=lambda *fields: True):
        """The fiscal rules of ``clean``; ``reads(*fields)`` says whether a rule over those fields
        runs (``clean``'s narrowing to the changed fields)."""
        if (
            reads("uso_cfdi", "company")
            and not self.uso_cfdi
            and self.company_id
            and self.company.cfdi_version != "3.3"
        ):
            # Blank is allowed only for a company still on Anexo 20 3.3: a synced customer whose
            # 4.0 uso del CFDI the user assigns by hand (CONTPAQi QR seed).
            raise ValidationError({"uso_cfdi": _("Este campo no puede estar en blanco.")})
        if not (self.rfc and self.regimen_fiscal and self.uso_cfdi):
            return  # the field validators already report what is missing
        if not reads("rfc", "name", "regimen_fiscal", "uso_cfdi"):
            return  # every rule below reads only unchanged values
        if (
            reads("rfc", "name")
            and self.rfc == RFC_PUBLICO_GENERAL
            and self.name.strip() != COUNTER_CUSTOMER_NAME
        ):
            # CFDI40146: SAT refuses the generic RFC with any other receiver name.
            raise ValidationError(
                {
                    "name": _("Con el RFC genérico %(rfc)s el nombre debe ser «%(name)s» (CFDI40146).")
                    % {"rfc": RFC_PUBLICO_GENERAL, "name": COUNTER_CUSTOMER_NAME}
                }
            )
        if reads("rfc") and is_valid_rfc(self.rfc) and not check_digit_ok(self.rfc):
            raise ValidationError(
                {
                    "rfc": _(
                        "El dígito verificador del RFC %(rfc)s no es válido: según el RFC debería ser «%(d)s»."
                    )
                    % {"rfc": self.rfc, "d": check_digit(self.rfc)}
                }
            )
        if is_generic_rfc(self.rfc):
            if reads("rfc", "regimen_fiscal") and self.regimen_fiscal != "616":
                raise ValidationError(
                    {
                        "regimen_fiscal": _(
                            "Con RFC genérico el régimen fiscal debe ser 616 (Sin obligaciones fiscales)."
                        )
                    }
                )
            if reads("rfc", "uso_cfdi") and self.uso_cfdi != "S01":
                raise ValidationError(
                    {"uso_cfdi": _("Con RFC genérico el uso del CFDI debe ser S01 (Sin efectos fiscales).")}
                )
            return
        persona = _("moral") if self.person_type == "moral" else _("física")
        if reads("rfc", "regimen_fiscal") and not sat_catalogs.regimen_applies_to(
            self.regimen_fiscal, self.person_type
        ):
            raise ValidationError(
                {
                    "regimen_fiscal": _(
                        "El régimen fiscal %(r)s no aplica a una persona %(p)s (RFC %(rfc)s)."
                    )
                    % {"r": self.regimen_fiscal, "p": persona, "rfc": self.rfc}
                }
            )
        if reads("rfc", "uso_cfdi") and not sat_catalogs.uso_cfdi_applies_to(self.uso_cfdi, self.person_type):
            raise ValidationError(
                {
                    "uso_cfdi": _("El uso del CFDI %(u)s no aplica a una persona %(p)s.")
                    % {"u": self.uso_cfdi, "p": persona}
                }
            )
        if reads("uso_cfdi", "regimen_fiscal") and not sat_catalogs.uso_cfdi_admits_regimen(
            self.uso_cfdi, self.regimen_fiscal
        ):
            raise ValidationError(
                {
                    "uso_cfdi": _("El uso del CFDI %(u)s no corresponde al régimen fiscal %(r)s del cliente.")
                    % {"u": self.uso_cfdi, "r": self.regimen_fiscal}
                }
            )


# Sales documents live in their own module; importing them here registers them with the app.
from .cfdi_import.models import ProductAssociation, XmlInvoice, XmlInvoiceLine  # noqa: E402, F401
from .document_models import (  # noqa: E402
    DocumentCounter,
    SalesDocument,
    SalesDocumentLine,
)
from .external_models import ExternalCfdi  # noqa: E402
from .returns.models import CreditNote, CreditNoteLine  # noqa: E402

__all__ = [
    "CreditNote",
    "CreditNoteLine",
    "ExternalCfdi",
    "Customer",
    "DocumentCounter",
    "SalesDocument",
    "SalesDocumentLine",
    "SalesEntity",
    "Salesperson",
]
from .global_invoice.models import GlobalInvoice, GlobalInvoiceTicket  # noqa: E402, F401
from .payments.models import (  # noqa: E402, F401
    AdvanceApplication,
    CustomerAdvance,
    CustomerPayment,
    PaymentApplication,
)
