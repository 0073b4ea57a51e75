"""Receivables (cuentas por cobrar): one per credit document, with the records against it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cashbank.models import CashMovement
from erp.models import CompanyOwned, Currency


class Receivable(CompanyOwned):
    """What a customer owes for one credit document; ``balance`` is kept under a row lock."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Vigente")
        CANCELLED = "cancelled", _("Cancelada")

    customer = models.ForeignKey(
        "sales.Customer", on_delete=models.PROTECT, related_name="receivables", verbose_name=_("cliente")
    )
    document_type = models.CharField(_("documento"), max_length=30, default="factura")
    document_number = models.CharField(_("número de documento"), max_length=40)
    origin = models.CharField(
        _("origen"), max_length=120, blank=True, help_text=_("Referencia «Módulo|ID|Entidad||».")
    )
    date = models.DateField(_("fecha"))
    due_date = models.DateField(_("vencimiento"))
    currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", verbose_name=_("moneda")
    )
    exchange_rate = models.DecimalField(_("tipo de cambio"), max_digits=18, decimal_places=6, default=1)
    amount = models.DecimalField(_("importe"), max_digits=18, decimal_places=2)
    balance = models.DecimalField(_("saldo"), max_digits=18, decimal_places=2)
    status = models.CharField(_("estatus"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(_("registrada el"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("registrada por"),
    )  # fmt: skip
    cancelled_at = models.DateTimeField(_("cancelada el"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("cancelada por"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("cuenta por cobrar")
        verbose_name_plural = _("cuentas por cobrar")
        ordering = ["company", "-date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="receivable_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(balance__gte=0, balance__lte=models.F("amount")),
                name="receivable_balance_range",
            ),
            models.CheckConstraint(
                condition=models.Q(due_date__gte=models.F("date")), name="receivable_due_after_date"
            ),
        ]
        indexes = [models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return f"{self.document_type} {self.document_number} ({self.customer})"

    @property
    def reference(self) -> str:
        return f"Cuentas por cobrar|{self.pk}|{self.document_number}||"


class ReceivableRecord(CompanyOwned):
    """A payment, a balance adjustment (returns, rebates) or an advance applied to a receivable."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Pago")
        ADJUSTMENT = "adjustment", _("Saldo (devolución o rebaja)")
        ADVANCE = "advance", _("Aplicación de anticipo")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Aplicado")
        CANCELLED = "cancelled", _("Cancelado")

    receivable = models.ForeignKey(
        Receivable, on_delete=models.PROTECT, related_name="records", verbose_name=_("cuenta por cobrar")
    )
    kind = models.CharField(_("tipo"), max_length=10, choices=Kind.choices)
    date = models.DateField(_("fecha"))
    amount = models.DecimalField(_("importe"), max_digits=18, decimal_places=2)
    reference = models.CharField(_("referencia"), max_length=60, blank=True)
    origin = models.CharField(_("origen"), max_length=120, blank=True)
    cash_movement = models.ForeignKey(
        CashMovement, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("movimiento de caja o banco"),
    )  # fmt: skip
    status = models.CharField(_("estatus"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
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
        verbose_name = _("registro de cuenta por cobrar")
        verbose_name_plural = _("registros de cuentas por cobrar")
        ordering = ["receivable", "date", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="receivable_record_positive")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"
