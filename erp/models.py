from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import sat_catalogs
from .rfc import is_generic_rfc, normalize_rfc, person_type
from .validators import validate_cfdi_text, validate_postal_code, validate_regimen_fiscal, validate_rfc


class Company(models.Model):
    """The taxpayer that issues documents; every business row belongs to one."""

    CFDI_VERSIONS = [("3.3", "3.3"), ("4.0", "4.0")]

    rfc = models.CharField(_("RFC"), max_length=13, unique=True, validators=[validate_rfc])
    legal_name = models.CharField(_("razón social"), max_length=254, validators=[validate_cfdi_text])
    regimen_fiscal = models.CharField(_("régimen fiscal"), max_length=3, validators=[validate_regimen_fiscal])
    postal_code = models.CharField(
        _("lugar de expedición (C.P.)"), max_length=5, validators=[validate_postal_code]
    )
    cfdi_version = models.CharField(
        _("versión del Anexo 20"), max_length=3, choices=CFDI_VERSIONS, default="4.0"
    )
    frontier_stimulus = models.BooleanField(
        _("inscrita en el estímulo de la región fronteriza"),
        default=False,
        help_text=_("Permite trasladar IVA al 8% desde entidades con C.P. en la región fronteriza."),
    )
    stock_change_from_sync = models.BooleanField(
        _("cambio a existencia"),
        default=False,
        help_text=_(
            "Permite que la sincronización con Aspel SAE iguale las existencias: cada diferencia se "
            "registra como un movimiento de ajuste auditado."
        ),
    )
    cashiers_cancel_invoices = models.BooleanField(
        _("los cajeros cancelan documentos agregados"),
        default=False,
        help_text=_(
            "Permite a los cajeros cancelar facturas, devoluciones y pagos agregados (con su CFDI ante "
            "el SAT). Sin marcar, solo el contador."
        ),
    )
    active = models.BooleanField(_("activa"), default=True)

    class Meta:
        verbose_name = _("empresa")
        verbose_name_plural = _("empresas")
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.rfc})"

    @property
    def person_type(self) -> str:
        return person_type(self.rfc)

    def clean(self):
        self.rfc = normalize_rfc(self.rfc)
        if is_generic_rfc(self.rfc):
            raise ValidationError({"rfc": _("Una empresa emisora no puede usar un RFC genérico.")})
        if self.regimen_fiscal and not sat_catalogs.regimen_applies_to(self.regimen_fiscal, self.person_type):
            raise ValidationError(
                {
                    "regimen_fiscal": _("El régimen fiscal %(regimen)s no aplica a una persona %(persona)s.")
                    % {
                        "regimen": self.regimen_fiscal,
                        "persona": _("moral") if self.person_type == "moral" else _("física"),
                    }
                }
            )


class CompanyOwned(models.Model):
    """Base for business rows: scoped to one company, which selectors and the API filter on."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, verbose_name=_("empresa"))

    class Meta:
        abstract = True


class Currency(models.Model):
    code = models.CharField(_("código ISO"), max_length=3, unique=True)
    name = models.CharField(_("nombre"), max_length=60)
    decimals = models.PositiveSmallIntegerField(_("decimales"), default=2)
    is_national = models.BooleanField(_("moneda nacional"), default=False)

    class Meta:
        verbose_name = _("moneda")
        verbose_name_plural = _("monedas")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_national"],
                condition=models.Q(is_national=True),
                name="one_national_currency",
            )
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self):
        self.code = (self.code or "").upper()
        if sat_catalogs.currency_decimals(self.code) is None:
            raise ValidationError({"code": _("La moneda no existe en el catálogo c_Moneda del SAT.")})


class ExchangeRate(CompanyOwned):
    """Pesos per unit of a foreign currency on a date (the DOF rate, or the company's own)."""

    date = models.DateField(_("fecha"))
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, verbose_name=_("moneda"))
    rate = models.DecimalField(_("tipo de cambio"), max_digits=18, decimal_places=6)

    class Meta:
        verbose_name = _("tipo de cambio")
        verbose_name_plural = _("tipos de cambio")
        ordering = ["-date", "currency__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "currency", "date"], name="one_rate_per_currency_and_day"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.date}: {self.rate}"

    def clean(self):
        if self.currency_id and self.currency.is_national:
            raise ValidationError({"currency": _("La moneda nacional no lleva tipo de cambio.")})


class Role(models.TextChoices):
    ACCOUNTANT = "accountant", _("Contador")
    CASHIER = "cashier", _("Cajero")
    INTEGRATOR = "integrator", _("Integrador")
    OPS = "ops", _("Operaciones")


class Membership(models.Model):
    """A user's role in a company. Every API read and write is scoped by these rows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("usuario"),
    )
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("empresa")
    )
    role = models.CharField(_("rol"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("membresía")
        verbose_name_plural = _("membresías")
        constraints = [models.UniqueConstraint(fields=["user", "company"], name="one_role_per_user_company")]

    def __str__(self) -> str:
        return f"{self.user} — {self.company.rfc} ({self.get_role_display()})"
