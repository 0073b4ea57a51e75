from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.fields import EncryptedBinaryField, EncryptedTextField
from erp.models import CompanyOwned

AMOUNT = {"max_digits": 18, "decimal_places": 2}


class Csd(CompanyOwned):
    """A company's Certificado de Sello Digital: the public certificate and its encrypted key."""

    certificate = models.BinaryField(_("certificado (.cer, DER)"))
    private_key = EncryptedBinaryField(_("llave privada (.key, cifrada)"))
    password = EncryptedTextField(_("contraseña de la llave (cifrada)"))
    serial_number = models.CharField(_("número de certificado"), max_length=20)
    rfc = models.CharField(_("RFC"), max_length=13)
    holder_name = models.CharField(_("titular"), max_length=254, blank=True)
    valid_from = models.DateTimeField(_("vigente desde"))
    valid_to = models.DateTimeField(_("vigente hasta"))
    active = models.BooleanField(_("en uso"), default=True)
    uploaded_at = models.DateTimeField(_("cargado"), auto_now_add=True)

    class Meta:
        verbose_name = _("certificado de sello digital (CSD)")
        verbose_name_plural = _("certificados de sello digital (CSD)")
        ordering = ["company", "-valid_to"]
        constraints = [
            models.UniqueConstraint(fields=["company", "serial_number"], name="csd_serial_per_company"),
            models.UniqueConstraint(
                fields=["company"], condition=models.Q(active=True), name="one_active_csd_per_company"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__lt=models.F("valid_to")), name="csd_validity_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.serial_number} ({self.rfc}, vence {self.valid_to:%d/%m/%Y})"


class CfdiDocument(CompanyOwned):
    """A CFDI this project issued: its XML exactly as the PAC returned it (the legal record)."""

    class Kind(models.TextChoices):
        INGRESO = "I", _("Ingreso")
        EGRESO = "E", _("Egreso")
        PAGO = "P", _("Pago")

    class Status(models.TextChoices):
        SEALED = "sealed", _("Sellado, sin timbrar")
        STAMPED = "stamped", _("Timbrado")

    class Cancellation(models.TextChoices):
        NONE = "", _("Vigente")
        REQUESTED = "requested", _("Cancelación solicitada (en espera del receptor)")
        ACCEPTED = "accepted", _("Cancelado")
        REJECTED = "rejected", _("Cancelación rechazada por el receptor")

    class Motive(models.TextChoices):
        WITH_RELATION = "01", _("01 Comprobante emitido con errores con relación")
        WITHOUT_RELATION = "02", _("02 Comprobante emitido con errores sin relación")
        NOT_CARRIED_OUT = "03", _("03 No se llevó a cabo la operación")
        GLOBAL_INVOICE = "04", _("04 Operación nominativa relacionada en una factura global")

    kind = models.CharField(_("tipo de comprobante"), max_length=1, choices=Kind.choices)
    status = models.CharField(_("estado"), max_length=10, choices=Status.choices, default=Status.SEALED)
    series = models.CharField(_("serie"), max_length=25, blank=True)
    folio = models.CharField(_("folio"), max_length=40, blank=True)
    issued_at = models.DateTimeField(_("fecha de emisión"))
    issuer_rfc = models.CharField(_("RFC emisor"), max_length=13)
    receiver_rfc = models.CharField(_("RFC receptor"), max_length=13)
    receiver_name = models.CharField(_("receptor"), max_length=300)
    currency = models.CharField(_("moneda"), max_length=3)
    exchange_rate = models.DecimalField(
        _("tipo de cambio"), max_digits=18, decimal_places=6, null=True, blank=True
    )
    subtotal = models.DecimalField(_("subtotal"), **AMOUNT)
    discount = models.DecimalField(_("descuento"), **AMOUNT, default=0)
    total_transferred = models.DecimalField(_("impuestos trasladados"), **AMOUNT, default=0)
    total_withheld = models.DecimalField(_("impuestos retenidos"), **AMOUNT, default=0)
    total = models.DecimalField(_("total"), **AMOUNT)
    csd = models.ForeignKey(Csd, on_delete=models.PROTECT, related_name="documents", verbose_name=_("CSD"))
    certificate_number = models.CharField(_("número de certificado"), max_length=20)
    xml = models.BinaryField(_("XML"))
    uuid = models.CharField(_("UUID"), max_length=36, null=True, blank=True)
    stamped_at = models.DateTimeField(_("fecha de timbrado"), null=True, blank=True)
    pac = models.CharField(_("PAC"), max_length=30, blank=True)
    sat_certificate_number = models.CharField(_("certificado del SAT"), max_length=20, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="cfdi/pdf/%Y/%m/", blank=True)
    receiver_email = models.CharField(
        _("correo del receptor"), max_length=254, blank=True, help_text=_("Uno o varios, separados por coma.")
    )
    emailed_at = models.DateTimeField(_("enviado por correo"), null=True, blank=True)
    emailed_to = models.CharField(_("enviado a"), max_length=254, blank=True)
    delivery_error = models.TextField(_("error de entrega"), blank=True)
    cancellation_status = models.CharField(
        _("cancelación"), max_length=10, choices=Cancellation.choices, default="", blank=True
    )
    cancellation_motive = models.CharField(
        _("motivo de cancelación"), max_length=2, choices=Motive.choices, blank=True
    )
    substitute_uuid = models.CharField(_("UUID que lo sustituye"), max_length=36, blank=True)
    cancellation_requested_at = models.DateTimeField(_("cancelación solicitada"), null=True, blank=True)
    cancellation_answered_at = models.DateTimeField(_("cancelación resuelta"), null=True, blank=True)
    cancellation_acuse = models.BinaryField(_("acuse de cancelación"), null=True, blank=True)
    last_error_code = models.CharField(_("último error"), max_length=20, blank=True)
    last_error_message = models.TextField(_("mensaje del último error"), blank=True)
    source_model = models.CharField(
        _("origen"), max_length=60, blank=True, help_text=_("Modelo que lo produjo, p. ej. sales.invoice.")
    )
    source_id = models.PositiveBigIntegerField(_("id de origen"), null=True, blank=True)
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)

    class Meta:
        verbose_name = _("CFDI emitido")
        verbose_name_plural = _("CFDI emitidos")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["source_model", "source_id"], name="cfdi_source_idx"),
            models.Index(fields=["-issued_at", "-id"], name="cfdi_list_order"),  # the list's order
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["uuid"], condition=models.Q(uuid__isnull=False), name="cfdi_uuid_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(subtotal__gte=0, discount__gte=0, total__gte=0),
                name="cfdi_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="stamped")
                | models.Q(uuid__isnull=False, stamped_at__isnull=False),
                name="cfdi_stamped_has_uuid",
            ),
            models.CheckConstraint(
                condition=models.Q(cancellation_status="")
                | models.Q(status="stamped", cancellation_motive__gt=""),
                name="cfdi_cancel_only_stamped_with_motive",
            ),
            models.CheckConstraint(
                condition=~models.Q(cancellation_motive="01") | models.Q(substitute_uuid__gt=""),
                name="cfdi_motive_01_has_substitute",
            ),
        ]

    def __str__(self) -> str:
        number = f"{self.series}{self.folio}" or f"#{self.pk}"
        return f"{self.get_kind_display()} {number} {self.uuid or '(sin timbrar)'}"

    @property
    def cfdi_column(self) -> str:
        """The invoice list's CFDI column: --- (not stamped), TFD (stamped, no PDF), PDF (complete)."""
        if self.status != self.Status.STAMPED:
            return "---"
        return "PDF" if self.pdf else "TFD"

    @property
    def filename(self) -> str:
        return f"{self.issuer_rfc}_{self.series}{self.folio}_{self.uuid or self.pk}.xml"

    @property
    def pdf_filename(self) -> str:
        return self.filename[:-4] + ".pdf"


class PacAccount(CompanyOwned):
    """The PAC a company stamps with, through satcfdi's adapter, and its encrypted credentials.
    A company without one stamps with the configured default (settings.CFDI_PAC, the sandbox)."""

    class Provider(models.TextChoices):
        SANDBOX = "sandbox", _("PAC de pruebas del ERP (sandbox)")
        FINKOK = "finkok", "Finkok"
        SWSAPIEN = "swsapien", "SW Sapien"
        DIVERZA = "diverza", "Diverza"
        PRODIGIA = "prodigia", "Prodigia"
        COMERCIODIGITAL = "comerciodigital", "Comercio Digital"
        FACTURAMA = "facturama", "Facturama"

    class Environment(models.TextChoices):
        TEST = "test", _("Pruebas")
        PRODUCTION = "production", _("Producción")

    provider = models.CharField(_("PAC"), max_length=20, choices=Provider.choices)
    environment = models.CharField(
        _("ambiente"), max_length=10, choices=Environment.choices, default=Environment.TEST
    )
    username = models.CharField(_("usuario"), max_length=254, blank=True)
    password = EncryptedTextField(_("contraseña (cifrada)"), blank=True)
    token = EncryptedTextField(_("token (cifrado)"), blank=True, help_text=_("SW Sapien y Diverza."))
    contract = models.CharField(
        _("contrato / id de cliente"), max_length=100, blank=True, help_text=_("Prodigia y Diverza.")
    )
    service_url = models.URLField(
        _("URL del servicio"), blank=True, help_text=_("Vacío: la del PAC según el ambiente.")
    )
    timeout_seconds = models.PositiveSmallIntegerField(_("tiempo de espera (s)"), default=30)
    active = models.BooleanField(_("en uso"), default=True)

    class Meta:
        verbose_name = _("cuenta de PAC")
        verbose_name_plural = _("cuentas de PAC")
        constraints = [
            models.UniqueConstraint(
                fields=["company"], condition=models.Q(active=True), name="one_active_pac_per_company"
            ),
            models.CheckConstraint(condition=models.Q(timeout_seconds__gte=1), name="pac_timeout_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} ({self.get_environment_display()})"


class CfdiSettings(CompanyOwned):
    """How a company's CFDIs are printed and delivered."""

    logo = models.ImageField(_("logotipo"), upload_to="cfdi/logos/", blank=True)
    send_by_email = models.BooleanField(
        _("enviar al cliente al timbrar"),
        default=True,
        help_text=_("Envía el XML y el PDF al correo del cliente."),
    )
    email_note = models.TextField(
        _("nota del correo"), blank=True, help_text=_("Se agrega al mensaje al cliente.")
    )

    class Meta:
        verbose_name = _("configuración de CFDI")
        verbose_name_plural = _("configuraciones de CFDI")
        constraints = [models.UniqueConstraint(fields=["company"], name="one_cfdi_settings_per_company")]

    def __str__(self) -> str:
        return str(self.company)


class SandboxPacCertificate(models.Model):
    """The sandbox PAC's own certificate and key (it signs SelloSAT with them; the certificate
    is published so the stamp can be verified)."""

    name = models.CharField(max_length=30, unique=True, default="sandbox")
    certificate = models.BinaryField()
    private_key = EncryptedBinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("certificado del PAC de pruebas")
        verbose_name_plural = _("certificados del PAC de pruebas")

    def __str__(self) -> str:
        return self.name


class SandboxStamp(models.Model):
    """A stamp the sandbox PAC gave, by the SHA-256 of the CFDI's Sello: stamping the same CFDI
    again answers 307 with this same stamp, as real PACs do."""

    sello_digest = models.CharField(max_length=64, unique=True)
    uuid = models.CharField(max_length=36, unique=True)
    issuer_rfc = models.CharField(max_length=13)
    stamped_xml = models.BinaryField()
    stamped_at = models.DateTimeField()
    receiver_rfc = models.CharField(max_length=13, blank=True)
    total = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    # "" vigente; requested (awaiting the receiver), accepted (cancelled), rejected by the receiver.
    cancellation_status = models.CharField(max_length=10, blank=True)
    cancellation_motive = models.CharField(max_length=2, blank=True)

    class Meta:
        verbose_name = _("timbre del PAC de pruebas")
        verbose_name_plural = _("timbres del PAC de pruebas")

    def __str__(self) -> str:
        return self.uuid
