from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.models import CompanyOwned
from erp.validators import validate_codigo_agrupador

from .variables import Variable


class Account(CompanyOwned):
    """An account of the chart of accounts (catálogo de cuentas)."""

    class Nature(models.TextChoices):
        DEBIT = "D", _("Deudora")
        CREDIT = "A", _("Acreedora")

    code = models.CharField(_("número de cuenta"), max_length=40)
    name = models.CharField(_("nombre"), max_length=200)
    nature = models.CharField(_("naturaleza"), max_length=1, choices=Nature.choices)
    sat_grouping_code = models.CharField(
        _("código agrupador SAT"), max_length=10, validators=[validate_codigo_agrupador]
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("cuenta padre"),
    )
    postable = models.BooleanField(
        _("afectable"), default=True, help_text=_("Solo las cuentas afectables reciben pólizas.")
    )
    active = models.BooleanField(_("activa"), default=True)

    class Meta:
        verbose_name = _("cuenta contable")
        verbose_name_plural = _("catálogo de cuentas")
        ordering = ["company", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="account_code_per_company")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def level(self) -> int:
        level, node = 1, self
        while node.parent_id:
            level, node = level + 1, node.parent
        return level

    def clean(self):
        if not self.parent_id:
            return
        if self.parent.company_id != self.company_id:
            raise ValidationError({"parent": _("La cuenta padre es de otra empresa.")})
        if self.parent.postable:
            raise ValidationError({"parent": _("La cuenta padre debe ser de acumulación (no afectable).")})
        node = self.parent
        while node is not None:
            if self.pk and node.pk == self.pk:
                raise ValidationError({"parent": _("Una cuenta no puede ser su propia ancestra.")})
            node = node.parent


class AccountingVariable(CompanyOwned):
    """Links a named variable (e.g. CC_VENNP) to an account of the company's chart."""

    name = models.CharField(_("variable"), max_length=20, choices=Variable.choices)
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cuenta"),
    )

    class Meta:
        verbose_name = _("variable contable")
        verbose_name_plural = _("variables contables")
        ordering = ["company", "name"]
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="one_variable_per_company")]

    def __str__(self) -> str:
        return f"{self.name} → {self.account or '—'}"

    @property
    def description(self) -> str:
        return Variable(self.name).label

    def clean(self):
        if self.account_id is None:
            return
        if self.account.company_id != self.company_id:
            raise ValidationError({"account": _("La cuenta es de otra empresa.")})
        if not self.account.postable:
            raise ValidationError({"account": _("La variable debe apuntar a una cuenta afectable.")})
