"""CFDIs stamped outside the ERP (by another PAC), loaded to a sales entity and linked to an invoice
(the seed's "Cargar XML y/o PDF" and "Enlazar a Factura"), or, an egreso, to a return or rebate."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.models import CompanyOwned

from .document_models import SalesDocument
from .models import SalesEntity


class ExternalCfdi(CompanyOwned):
    entity = models.ForeignKey(SalesEntity, on_delete=models.PROTECT, verbose_name=_("entidad"))
    uuid = models.CharField(_("UUID"), max_length=36)
    version = models.CharField(_("versión"), max_length=3)
    doc_type = models.CharField(_("tipo de comprobante"), max_length=1)
    issuer_rfc = models.CharField(_("RFC emisor"), max_length=13)
    receiver_rfc = models.CharField(_("RFC receptor"), max_length=13)
    receiver_name = models.CharField(_("receptor"), max_length=300, blank=True)
    series = models.CharField(_("serie"), max_length=25, blank=True)
    folio = models.CharField(_("folio"), max_length=40, blank=True)
    issued_at = models.CharField(_("fecha"), max_length=19)
    currency = models.CharField(_("moneda"), max_length=3)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2)
    xml = models.BinaryField(_("XML"))
    pdf = models.FileField(_("PDF"), upload_to="cfdi/externos/%Y/%m/", blank=True)
    invoice = models.ForeignKey(
        SalesDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="external_cfdis",
        verbose_name=_("factura enlazada"),
    )
    credit_note = models.ForeignKey(
        "sales.CreditNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="external_cfdis",
        verbose_name=_("devolución o rebaja enlazada"),
    )  # an egreso stamped elsewhere, linked instead of stamping one
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("cargado por"),
    )
    uploaded_at = models.DateTimeField(_("cargado"), auto_now_add=True)

    class Meta:
        verbose_name = _("CFDI externo")
        verbose_name_plural = _("CFDIs externos")
        ordering = ["-uploaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["company", "uuid"], name="external_cfdi_uuid_per_company"),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(invoice__isnull=False),
                name="one_external_cfdi_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["credit_note"],
                condition=models.Q(credit_note__isnull=False),
                name="one_external_cfdi_per_credit_note",
            ),
            models.CheckConstraint(
                condition=models.Q(invoice__isnull=True) | models.Q(credit_note__isnull=True),
                name="external_cfdi_linked_to_one_document",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uuid} {self.receiver_rfc} {self.total}"
