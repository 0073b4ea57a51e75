from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounting.models import Account
from erp.linking import check_ledger_link
from erp.models import CompanyOwned, Currency


class CashBankAccount(CompanyOwned):
    """A cash box (caja) or a bank account that money is collected into or paid from."""

    class Kind(models.TextChoices):
        CASH = "cash", _("Caja")
        BANK = "bank", _("Banco")

    code = models.CharField(_("clave"), max_length=20)
    name = models.CharField(_("nombre"), max_length=120)
    kind = models.CharField(_("tipo"), max_length=4, choices=Kind.choices)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, verbose_name=_("moneda"))
    linked_to_accounting = models.BooleanField(_("enlazada a contabilidad"), default=True)
    ledger_account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cuenta contable"),
    )
    bank_name = models.CharField(_("banco"), max_length=120, blank=True)
    account_number = models.CharField(_("número de cuenta"), max_length=30, blank=True)
    active = models.BooleanField(_("activa"), default=True)

    class Meta:
        verbose_name = _("caja o banco")
        verbose_name_plural = _("cajas y bancos")
        ordering = ["company", "code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="cashbank_code_per_company")]

    def __str__(self) -> str:
        return f"{self.code} {self.name} ({self.currency_id and self.currency.code})"

    def clean(self):
        check_ledger_link(
            self, flag="linked_to_accounting", account_field="ledger_account", label="cuenta contable"
        )
        if self.kind == self.Kind.BANK and not self.bank_name:
            raise ValidationError({"bank_name": _("Indique el banco de la cuenta.")})
