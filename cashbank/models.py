from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounting.models import Account, JournalEntry
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
    sat_bank_code = models.CharField(
        _("clave del banco (c_Banco)"),
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^\d{3}$", _("La clave de banco del SAT son tres dígitos."))],
        help_text=_("Para los cheques y transferencias de la contabilidad electrónica."),
    )
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


class PaymentMethod(models.TextChoices):
    """How money moved, with SAT's c_MetPagos keys (electronic accounting)."""

    CASH = "01", _("Efectivo")
    CHECK = "02", _("Cheque nominativo")
    TRANSFER = "03", _("Transferencia electrónica de fondos")
    CREDIT_CARD = "04", _("Tarjeta de crédito")
    DEBIT_CARD = "28", _("Tarjeta de débito")
    SERVICE_CARD = "29", _("Tarjeta de servicios")
    E_WALLET = "05", _("Monedero electrónico")
    E_MONEY = "06", _("Dinero electrónico")
    VOUCHERS = "08", _("Vales de despensa")
    COMPENSATION = "17", _("Compensación")
    OTHER = "99", _("Otros")


class CashMovement(CompanyOwned):
    """A deposit into or a withdrawal from a cash box or bank account, in its currency."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Depósito")
        WITHDRAWAL = "withdrawal", _("Retiro")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Vigente")
        CANCELLED = "cancelled", _("Cancelado")

    account = models.ForeignKey(
        CashBankAccount, on_delete=models.PROTECT, related_name="movements", verbose_name=_("caja o banco")
    )
    kind = models.CharField(_("tipo"), max_length=10, choices=Kind.choices)
    date = models.DateField(_("fecha"))
    amount = models.DecimalField(_("importe"), max_digits=18, decimal_places=2)
    document_currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", verbose_name=_("moneda del documento")
    )
    document_amount = models.DecimalField(
        _("importe en la moneda del documento"), max_digits=18, decimal_places=2
    )
    exchange_rate = models.DecimalField(
        _("tipo de cambio"), max_digits=18, decimal_places=6, null=True, blank=True
    )
    method = models.CharField(_("forma de pago"), max_length=2, choices=PaymentMethod.choices)
    check_number = models.CharField(_("número de cheque"), max_length=20, blank=True)
    counterparty_bank = models.CharField(_("banco de la contraparte (c_Banco)"), max_length=3, blank=True)
    counterparty_bank_foreign = models.CharField(
        _("banco extranjero de la contraparte"), max_length=150, blank=True
    )
    counterparty_account = models.CharField(_("cuenta de la contraparte"), max_length=50, blank=True)
    beneficiary = models.CharField(_("beneficiario u ordenante"), max_length=300, blank=True)
    beneficiary_rfc = models.CharField(_("RFC del beneficiario u ordenante"), max_length=13, blank=True)
    concept = models.CharField(_("concepto"), max_length=300)
    reference = models.CharField(_("referencia"), max_length=60, blank=True)
    origin = models.CharField(
        _("origen"), max_length=120, blank=True, help_text=_("Referencia «Módulo|ID|Entidad||».")
    )
    status = models.CharField(_("estatus"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    journal_entry = models.ForeignKey(
        JournalEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("póliza"),
    )
    created_at = models.DateTimeField(_("registrado el"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("registrado por"),
    )  # fmt: skip
    cancelled_at = models.DateTimeField(_("cancelado el"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("cancelado por"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("movimiento de caja o banco")
        verbose_name_plural = _("movimientos de caja y bancos")
        ordering = ["company", "-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, document_amount__gt=0), name="cash_movement_positive"
            ),
        ]
        indexes = [models.Index(fields=["account", "date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.account.code}"

    @property
    def reference_string(self) -> str:
        return f"Caja y bancos|{self.pk}|{self.account.code}||"

    @property
    def signed_amount(self):
        return self.amount if self.kind == self.Kind.DEPOSIT else -self.amount
