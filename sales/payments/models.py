"""Customer payments (cobros): money received once, applied to one or more credit invoices."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cashbank.models import CashBankAccount, CashMovement
from erp.models import CompanyOwned, Currency

AMOUNT = {"max_digits": 18, "decimal_places": 2}

# The module name in origin references "Módulo|ID|Entidad||" (invoices are "VFAC").
ORIGIN_MODULE = "VPAG"


class CustomerPayment(CompanyOwned):
    """A deposit into a cash or bank account with its SAT payment data (FormaDePagoP, ordering
    and beneficiary accounts, operation number), applied to open invoices of one customer."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Borrador")
        POSTED = "posted", _("Aplicado")
        CANCELLED = "cancelled", _("Cancelado")

    entity = models.ForeignKey(
        "sales.SalesEntity", on_delete=models.PROTECT, related_name="+", verbose_name=_("entidad")
    )
    customer = models.ForeignKey(
        "sales.Customer", on_delete=models.PROTECT, related_name="payments", verbose_name=_("cliente")
    )
    date = models.DateField(_("fecha de pago"))
    account = models.ForeignKey(
        CashBankAccount, on_delete=models.PROTECT, related_name="+", verbose_name=_("caja o banco")
    )
    currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", verbose_name=_("moneda")
    )
    exchange_rate = models.DecimalField(_("tipo de cambio"), max_digits=18, decimal_places=6, default=1)
    amount = models.DecimalField(_("monto"), **AMOUNT)
    advance = models.DecimalField(
        _("anticipo"), **AMOUNT, default=0,
        help_text=_("Lo que el pago no aplica a facturas: queda como anticipo del cliente."),
    )  # fmt: skip
    payment_form = models.CharField(_("forma de pago (SAT)"), max_length=2)
    operation_number = models.CharField(_("número de operación"), max_length=100, blank=True)
    payer_bank_code = models.CharField(
        _("banco ordenante (clave SAT)"), max_length=3, blank=True, help_text=_("Catálogo c_Banco del SAT.")
    )
    payer_bank_rfc = models.CharField(_("RFC del banco ordenante"), max_length=13, blank=True)
    payer_bank_name = models.CharField(_("banco ordenante"), max_length=300, blank=True)
    payer_account = models.CharField(_("cuenta ordenante"), max_length=50, blank=True)
    beneficiary_account = models.CharField(_("cuenta beneficiaria"), max_length=50, blank=True)
    status = models.CharField(_("estatus"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    cash_movement = models.ForeignKey(
        CashMovement, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("movimiento de caja o banco"),
    )  # fmt: skip
    cfdi_error = models.TextField(_("error del complemento"), blank=True)
    created_at = models.DateTimeField(_("registrado el"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("registrado por"),
    )  # fmt: skip
    posted_at = models.DateTimeField(_("aplicado el"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelado el"), null=True, blank=True)

    class Meta:
        verbose_name = _("pago de cliente")
        verbose_name_plural = _("pagos de clientes")
        ordering = ["company", "-date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="customer_payment_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(exchange_rate__gt=0), name="customer_payment_rate_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Pago {self.pk} {self.customer} {self.amount}"

    @property
    def origin_reference(self) -> str:
        return f"{ORIGIN_MODULE}|{self.pk}|{self.entity.code}||"


class PaymentApplication(models.Model):
    """The part of a payment applied to one invoice, in the invoice's currency, with the
    complement's figures fixed when the payment is posted."""

    payment = models.ForeignKey(
        CustomerPayment, on_delete=models.CASCADE, related_name="applications", verbose_name=_("pago")
    )
    invoice = models.ForeignKey(
        "sales.SalesDocument", on_delete=models.PROTECT, related_name="payment_applications",
        verbose_name=_("factura"),
    )  # fmt: skip
    amount = models.DecimalField(_("importe pagado"), **AMOUNT)
    installment = models.PositiveSmallIntegerField(_("núm. de parcialidad"), null=True, blank=True)
    previous_balance = models.DecimalField(_("saldo anterior"), **AMOUNT, null=True, blank=True)
    receivable_record = models.ForeignKey(
        "sales.ReceivableRecord", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("registro de cuenta por cobrar"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("aplicación de pago")
        verbose_name_plural = _("aplicaciones de pago")
        ordering = ["payment", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_application_positive"),
            models.UniqueConstraint(fields=["payment", "invoice"], name="one_application_per_invoice"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.amount}"


class CustomerAdvance(CompanyOwned):
    """An advance (anticipo) of a customer: the part of a payment not applied to invoices, a
    credit of the customer (the accounting variable VEN_ANTICIPOS) applicable later to invoices."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Vigente")
        CANCELLED = "cancelled", _("Cancelado")

    customer = models.ForeignKey(
        "sales.Customer", on_delete=models.PROTECT, related_name="advances", verbose_name=_("cliente")
    )
    payment = models.OneToOneField(
        CustomerPayment, on_delete=models.PROTECT, related_name="advance_record", verbose_name=_("pago")
    )
    date = models.DateField(_("fecha"))
    currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", verbose_name=_("moneda")
    )
    exchange_rate = models.DecimalField(_("tipo de cambio"), max_digits=18, decimal_places=6, default=1)
    amount = models.DecimalField(_("importe"), **AMOUNT)
    balance = models.DecimalField(_("saldo por aplicar"), **AMOUNT)
    status = models.CharField(_("estatus"), max_length=10, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        verbose_name = _("anticipo de cliente")
        verbose_name_plural = _("anticipos de clientes")
        ordering = ["company", "-date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="advance_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(balance__gte=0, balance__lte=models.F("amount")),
                name="advance_balance_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Anticipo {self.pk} {self.customer} {self.balance}/{self.amount}"

    @property
    def origin_reference(self) -> str:
        return f"VANT|{self.pk}|{self.customer_id}||"


class AdvanceApplication(CompanyOwned):
    """Part of an advance applied to an open invoice of the same customer: a receivable record
    (Aplicación de anticipo) and a póliza de diario from advances to customers."""

    advance = models.ForeignKey(
        CustomerAdvance, on_delete=models.PROTECT, related_name="applications", verbose_name=_("anticipo")
    )
    invoice = models.ForeignKey(
        "sales.SalesDocument", on_delete=models.PROTECT, related_name="advance_applications",
        verbose_name=_("factura"),
    )  # fmt: skip
    date = models.DateField(_("fecha"))
    amount = models.DecimalField(_("importe aplicado"), **AMOUNT)
    receivable_record = models.ForeignKey(
        "sales.ReceivableRecord", on_delete=models.PROTECT, related_name="+",
        verbose_name=_("registro de cuenta por cobrar"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("registrado el"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("registrado por"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("aplicación de anticipo")
        verbose_name_plural = _("aplicaciones de anticipos")
        ordering = ["advance", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="advance_application_positive")
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.amount}"

    @property
    def origin_reference(self) -> str:
        return f"VANT|{self.advance_id}|{self.pk}||"
