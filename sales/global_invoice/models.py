"""The global invoice of counter sales (factura global): one CFDI to PUBLICO EN GENERAL that
groups the tickets of a period posted without a CFDI of their own."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.models import CompanyOwned, Currency

AMOUNT = {"max_digits": 18, "decimal_places": 2}


class Periodicity(models.TextChoices):
    """c_Periodicidad of InformacionGlobal."""

    DAILY = "01", _("Diario")
    WEEKLY = "02", _("Semanal")
    FORTNIGHTLY = "03", _("Quincenal")
    MONTHLY = "04", _("Mensual")
    BIMONTHLY = "05", _("Bimestral")


class GlobalInvoice(CompanyOwned):
    """A factura global: the tickets of one sales entity in a period, one concept per ticket."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Borrador")
        ISSUED = "issued", _("Emitida")
        CANCELLED = "cancelled", _("Cancelada")

    entity = models.ForeignKey(
        "sales.SalesEntity", on_delete=models.PROTECT, related_name="+", verbose_name=_("entidad")
    )
    periodicity = models.CharField(_("periodicidad"), max_length=2, choices=Periodicity.choices)
    date_from = models.DateField(_("desde"))
    date_to = models.DateField(_("hasta"))
    months = models.CharField(_("meses (c_Meses)"), max_length=2)
    year = models.PositiveSmallIntegerField(_("año"))
    currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", verbose_name=_("moneda")
    )
    total = models.DecimalField(_("total de los tickets"), **AMOUNT, default=0)
    status = models.CharField(_("estatus"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    cfdi_error = models.TextField(_("error al sellar"), blank=True)
    created_at = models.DateTimeField(_("registrada el"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("registrada por"),
    )  # fmt: skip
    issued_at = models.DateTimeField(_("emitida el"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelada el"), null=True, blank=True)

    class Meta:
        verbose_name = _("factura global")
        verbose_name_plural = _("facturas globales")
        ordering = ["company", "-date_to", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_to__gte=models.F("date_from")), name="global_period"
            ),
        ]

    def __str__(self) -> str:
        return f"Factura global {self.pk} {self.date_from:%d/%m/%Y}–{self.date_to:%d/%m/%Y}"


class GlobalInvoiceTicket(models.Model):
    """A ticket in a global invoice. A ticket is in at most one global invoice in force: the line
    is deactivated when the global invoice is cancelled or the ticket gets its own invoice."""

    global_invoice = models.ForeignKey(
        GlobalInvoice, on_delete=models.CASCADE, related_name="tickets", verbose_name=_("factura global")
    )
    ticket = models.ForeignKey(
        "sales.SalesDocument", on_delete=models.PROTECT, related_name="global_lines", verbose_name=_("ticket")
    )
    total = models.DecimalField(_("total"), **AMOUNT)
    active = models.BooleanField(_("vigente"), default=True)

    class Meta:
        verbose_name = _("ticket de factura global")
        verbose_name_plural = _("tickets de factura global")
        ordering = ["global_invoice", "ticket__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=models.Q(active=True), name="ticket_in_one_global_invoice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket.series}{self.ticket.number} {self.total}"
