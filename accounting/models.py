from django.conf import settings
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


class ClosedPeriod(CompanyOwned):
    """A month the accountant has closed: no entry may be posted or cancelled in it."""

    year = models.PositiveSmallIntegerField(_("año"))
    month = models.PositiveSmallIntegerField(_("mes"))
    closed_at = models.DateTimeField(_("cerrado el"), auto_now_add=True)

    class Meta:
        verbose_name = _("periodo cerrado")
        verbose_name_plural = _("periodos cerrados")
        ordering = ["company", "-year", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["company", "year", "month"], name="one_close_per_period"),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="closed_month_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"


class JournalSequence(CompanyOwned):
    """The last number given to entries of one kind in one month (taken under a row lock)."""

    kind = models.CharField(max_length=1)
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "year", "month"], name="one_sequence_per_period"
            )
        ]


class JournalEntry(CompanyOwned):
    """A póliza: ingresos, egresos or diario, numbered per kind and month."""

    class Kind(models.TextChoices):
        INCOME = "I", _("Ingresos")
        EXPENSE = "E", _("Egresos")
        GENERAL = "D", _("Diario")

    class Status(models.TextChoices):
        POSTED = "posted", _("Registrada")
        CANCELLED = "cancelled", _("Cancelada")

    kind = models.CharField(_("tipo"), max_length=1, choices=Kind.choices)
    date = models.DateField(_("fecha"))
    year = models.PositiveSmallIntegerField(_("año"), editable=False)
    month = models.PositiveSmallIntegerField(_("mes"), editable=False)
    number = models.PositiveIntegerField(_("número"), editable=False)
    concept = models.CharField(_("concepto"), max_length=300)
    origin = models.CharField(
        _("origen"), max_length=120, blank=True, help_text=_("Referencia «Módulo|ID|Entidad||».")
    )
    status = models.CharField(_("estatus"), max_length=10, choices=Status.choices, default=Status.POSTED)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2, default=0)
    created_at = models.DateTimeField(_("registrada el"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registrada por"),
    )
    cancelled_at = models.DateTimeField(_("cancelada el"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelada por"),
    )

    class Meta:
        verbose_name = _("póliza")
        verbose_name_plural = _("pólizas")
        # company_id, not company: ordering by the relation sorts by the company's name through a
        # join, which no index serves (every entry sorted for each page).
        ordering = ["company_id", "-date", "kind", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "year", "month", "number"], name="entry_number_per_kind_and_month"
            ),
            models.CheckConstraint(condition=models.Q(total__gt=0), name="entry_total_positive"),
        ]
        indexes = [
            models.Index(fields=["company", "date"]),
            # The list's order: a page is read off the index instead of sorting every entry.
            models.Index(fields=["company", "-date", "kind", "-number"], name="entry_list_order"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}-{self.number} {self.year}-{self.month:02d}"

    @property
    def sat_id(self) -> str:
        """NumUnIdenPol: unique within its month for SAT's e-accounting."""
        return f"{self.kind}-{self.number}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED


class JournalLine(models.Model):
    """One debit or credit of a póliza (exactly one side is positive)."""

    entry = models.ForeignKey(
        JournalEntry, on_delete=models.CASCADE, related_name="lines", verbose_name=_("póliza")
    )
    position = models.PositiveIntegerField(_("partida"))
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("cuenta"))
    debit = models.DecimalField(_("cargo"), max_digits=18, decimal_places=2, default=0)
    credit = models.DecimalField(_("abono"), max_digits=18, decimal_places=2, default=0)
    description = models.CharField(_("concepto"), max_length=200, blank=True)
    currency = models.ForeignKey(
        "erp.Currency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moneda"),
    )
    exchange_rate = models.DecimalField(
        _("tipo de cambio"), max_digits=18, decimal_places=6, null=True, blank=True
    )
    foreign_amount = models.DecimalField(
        _("importe en moneda extranjera"), max_digits=18, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("partida de póliza")
        verbose_name_plural = _("partidas de póliza")
        ordering = ["entry", "position"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "position"], name="journal_line_position"),
            models.CheckConstraint(
                condition=(models.Q(debit__gt=0, credit=0) | models.Q(debit=0, credit__gt=0)),
                name="journal_line_one_side",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account.code} {self.debit} / {self.credit}"


class PaymentRecord(models.Model):
    """E-accounting detail SAT asks for under an entry line that moves cash or bank money:
    a check (Cheque), a transfer (Transferencia) or another method (OtrMetodoPago)."""

    class Kind(models.TextChoices):
        CHECK = "check", _("Cheque")
        TRANSFER = "transfer", _("Transferencia")
        OTHER = "other", _("Otro método de pago")

    line = models.ForeignKey(
        JournalLine, on_delete=models.CASCADE, related_name="payments", verbose_name=_("partida")
    )
    kind = models.CharField(_("tipo"), max_length=8, choices=Kind.choices)
    date = models.DateField(_("fecha"))
    beneficiary = models.CharField(_("beneficiario"), max_length=300)
    rfc = models.CharField(_("RFC"), max_length=13)
    amount = models.DecimalField(_("monto"), max_digits=18, decimal_places=2)
    check_number = models.CharField(_("número de cheque"), max_length=20, blank=True)
    origin_bank = models.CharField(_("banco origen (c_Banco)"), max_length=3, blank=True)
    origin_bank_foreign = models.CharField(_("banco origen extranjero"), max_length=150, blank=True)
    origin_account = models.CharField(_("cuenta origen"), max_length=50, blank=True)
    dest_bank = models.CharField(_("banco destino (c_Banco)"), max_length=3, blank=True)
    dest_bank_foreign = models.CharField(_("banco destino extranjero"), max_length=150, blank=True)
    dest_account = models.CharField(_("cuenta destino"), max_length=50, blank=True)
    method = models.CharField(_("método de pago (c_MetPagos)"), max_length=2, blank=True)
    currency = models.CharField(_("moneda"), max_length=3, blank=True)
    exchange_rate = models.DecimalField(
        _("tipo de cambio"), max_digits=18, decimal_places=5, null=True, blank=True
    )

    class Meta:
        verbose_name = _("registro de contabilidad electrónica")
        verbose_name_plural = _("registros de contabilidad electrónica")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_record_positive")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"
