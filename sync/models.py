"""The sync engine's rows: a connection to an outside system, its runs and their events.

A connection belongs to one company and has a kind (one connector module per kind, see
``sync/connectors``), a period in minutes (its django-celery-beat periodic task is kept in step
by ``sync.services``), options validated by its connector, encrypted credentials and the cursor
(the source's bookmark) of the last page written. The lease fields (``lease_run``,
``lease_expires_at``) are the non-overlap lock: see ``sync.engine``.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from erp.fields import EncryptedTextField
from erp.models import CompanyOwned

from .connectors import get_connector

PERIOD_MIN = 5
PERIOD_MAX = 1440
PERIOD_MESSAGE = _("El periodo de sincronización debe estar entre 5 y 1440 minutos.")


class Connection(CompanyOwned):
    class Kind(models.TextChoices):
        QR_CUSTOMERS = "qr_customers", _("CONTPAQi QR: clientes")
        WOPEN = "wopen", _("CONTPAQi Wopen: pedidos y facturas")
        SAE = "sae", _("Aspel SAE: catálogos")
        CUSTOMER_FILE = "customer_file", _("Archivo de clientes (Excel/CSV)")

    kind = models.CharField(_("tipo"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("nombre"), max_length=120)
    enabled = models.BooleanField(_("sincronizar"), default=True)
    period_minutes = models.PositiveIntegerField(
        _("periodo de sincronización (min.)"),
        default=60,
        help_text=_("De 5 a 1440 minutos (24 horas)."),
    )
    options = models.JSONField(_("opciones"), default=dict, blank=True)
    credentials = EncryptedTextField(_("credenciales"), blank=True, default="")
    cursor = models.CharField(_("cursor"), max_length=255, blank=True, default="")
    lease_run = models.ForeignKey(
        "Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("creada"), auto_now_add=True)

    class Meta:
        verbose_name = _("conexión")
        verbose_name_plural = _("conexiones")
        ordering = ["company", "name"]
        permissions = [("run_connection", _("Puede sincronizar, activar y desactivar conexiones"))]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="sync_connection_name_per_company"),
            models.CheckConstraint(
                condition=models.Q(period_minutes__gte=PERIOD_MIN, period_minutes__lte=PERIOD_MAX),
                name="sync_connection_period_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def task_name(self) -> str:
        return f"sync-connection-{self.pk}"

    def clean(self):
        if self.period_minutes is not None and not PERIOD_MIN <= self.period_minutes <= PERIOD_MAX:
            raise ValidationError({"period_minutes": PERIOD_MESSAGE})
        if self.kind:
            self.options = get_connector(self.kind).clean_options(self)


class Run(CompanyOwned):
    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Programada")
        MANUAL = "manual", _("Manual")
        API = "api", _("API")

    class Status(models.TextChoices):
        PENDING = "pending", _("En cola")
        RUNNING = "running", _("En curso")
        DONE = "done", _("Terminada")

    class Result(models.TextChoices):
        SUCCESS = "success", _("Exitosa")
        PARTIAL = "partial", _("Parcial")
        FAILED = "failed", _("Fallida")
        SKIPPED = "skipped", _("Omitida")

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="runs", verbose_name=_("conexión")
    )
    trigger = models.CharField(_("origen"), max_length=10, choices=Trigger.choices)
    status = models.CharField(_("estado"), max_length=10, choices=Status.choices, default=Status.PENDING)
    result = models.CharField(_("resultado"), max_length=10, choices=Result.choices, blank=True)
    queued_at = models.DateTimeField(_("en cola desde"), auto_now_add=True)
    started_at = models.DateTimeField(_("inicio"), null=True, blank=True)
    finished_at = models.DateTimeField(_("fin"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("última señal"), null=True, blank=True)
    created = models.PositiveIntegerField(_("creados"), default=0)
    updated = models.PositiveIntegerField(_("actualizados"), default=0)
    deactivated = models.PositiveIntegerField(_("desactivados"), default=0)
    unchanged = models.PositiveIntegerField(_("sin cambios"), default=0)
    failed = models.PositiveIntegerField(_("con error"), default=0)
    message = models.CharField(_("resumen"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("ejecución")
        verbose_name_plural = _("ejecuciones")
        ordering = ["-queued_at", "-pk"]
        indexes = [models.Index(fields=["connection", "-queued_at"], name="sync_run_conn_queued")]

    def __str__(self) -> str:
        return f"{self.connection} #{self.pk}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Event(CompanyOwned):
    class Level(models.TextChoices):
        INFO = "info", _("Información")
        WARNING = "warning", _("Advertencia")
        ERROR = "error", _("Error")

    at = models.DateTimeField(_("fecha y hora"), auto_now_add=True, db_index=True)
    level = models.CharField(_("nivel"), max_length=10, choices=Level.choices)
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="events", verbose_name=_("conexión")
    )
    run = models.ForeignKey(
        Run,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("ejecución"),
    )
    record_key = models.CharField(_("clave del registro"), max_length=60, blank=True)
    message = models.TextField(_("mensaje"))
    record_model = models.CharField(_("modelo del registro"), max_length=60, blank=True)
    record_id = models.BigIntegerField(_("id del registro"), null=True, blank=True)

    class Meta:
        verbose_name = _("evento")
        verbose_name_plural = _("eventos")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["company", "-at"], name="sync_event_company_at")]

    def __str__(self) -> str:
        return self.message[:80]

    @property
    def record_url(self) -> str:
        """The admin page of the local record this event is about, when there is one."""
        if not (self.record_model and self.record_id):
            return ""
        app_label, model = self.record_model.split(".")
        try:
            return reverse(f"admin:{app_label}_{model}_change", args=[self.record_id])
        except NoReverseMatch:
            return ""


class WopenDocument(CompanyOwned):
    """The external key of a CONTPAQi Wopen document brought in (an order or an invoice request):
    one row per Wopen document, unique by constraint, written in the same transaction as the
    sales document it became. A repeated run, or a page read again after a worker died, finds
    it and creates nothing. ``reported_at``: when the stamp (number, UUID, XML and PDF links) was
    reported back to Wopen."""

    class Kind(models.TextChoices):
        ORDER = "pedido", _("Pedido")
        INVOICE = "factura", _("Factura")

    wopen_kind = models.CharField(_("tipo en Wopen"), max_length=10, choices=Kind.choices)
    wopen_id = models.CharField(_("id en Wopen"), max_length=60)
    connection = models.ForeignKey(
        Connection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="wopen_documents",
        verbose_name=_("conexión"),
    )
    document = models.OneToOneField(
        "sales.SalesDocument",
        on_delete=models.PROTECT,
        related_name="wopen_link",
        verbose_name=_("documento"),
    )
    created_at = models.DateTimeField(_("recibido"), auto_now_add=True)
    reported_at = models.DateTimeField(_("timbre informado a Wopen"), null=True, blank=True)

    class Meta:
        verbose_name = _("documento de Wopen")
        verbose_name_plural = _("documentos de Wopen")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "wopen_kind", "wopen_id"], name="sync_wopen_document_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_wopen_kind_display()} Wopen {self.wopen_id}"


class CustomerImport(CompanyOwned):
    """One customer file read by a ``customer_file`` connection: its preview ("Vista previa"),
    kept with the file's SHA-256 so applying it writes exactly the rows that were shown.

    ``preview`` → ``queued`` (apply requested: a run will write it) → ``applied``; a file that
    could not be read at all is ``rejected`` with its message and has no rows."""

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Carga en pantalla")
        API = "api", _("API")
        FTP = "ftp", _("FTP")

    class Status(models.TextChoices):
        PREVIEW = "preview", _("Vista previa")
        QUEUED = "queued", _("Por aplicar")
        APPLIED = "applied", _("Aplicada")
        REJECTED = "rejected", _("Rechazada")

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="imports", verbose_name=_("conexión")
    )
    source = models.CharField(_("origen"), max_length=10, choices=Source.choices)
    status = models.CharField(_("estado"), max_length=10, choices=Status.choices, default=Status.PREVIEW)
    file_name = models.CharField(_("archivo"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("tamaño (bytes)"), default=0)
    created_at = models.DateTimeField(_("leído"), auto_now_add=True)
    run = models.ForeignKey(
        Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("ejecución")
    )
    rows_read = models.PositiveIntegerField(_("filas leídas"), default=0)
    to_create = models.PositiveIntegerField(_("por crear"), default=0)
    to_update = models.PositiveIntegerField(_("por actualizar"), default=0)
    unchanged = models.PositiveIntegerField(_("sin cambios"), default=0)
    errors = models.PositiveIntegerField(_("con error"), default=0)
    message = models.CharField(_("mensaje"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("importación de clientes")
        verbose_name_plural = _("importaciones de clientes")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["connection", "sha256"], name="sync_import_conn_sha")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class CustomerImportRow(models.Model):
    """One row of a preview that changes something or fails: what will be created (``values``),
    updated (``changes``: field → [old, new]) or why it cannot be (``message``, ``column``).
    Unchanged rows are only counted."""

    class Action(models.TextChoices):
        CREATE = "create", _("Alta")
        UPDATE = "update", _("Actualización")
        ERROR = "error", _("Error")

    customer_import = models.ForeignKey(CustomerImport, on_delete=models.CASCADE, related_name="rows")
    row = models.PositiveIntegerField(_("fila"))
    action = models.CharField(_("acción"), max_length=10, choices=Action.choices)
    key = models.CharField(_("clave o RFC"), max_length=60, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    values = models.JSONField(default=dict, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    column = models.CharField(_("columna"), max_length=120, blank=True)
    message = models.TextField(_("mensaje"), blank=True)

    class Meta:
        verbose_name = _("fila de importación")
        verbose_name_plural = _("filas de importación")
        ordering = ["customer_import", "row"]
        indexes = [models.Index(fields=["customer_import", "action", "row"], name="sync_import_row_action")]

    def __str__(self) -> str:
        return f"Fila {self.row}: {self.get_action_display()}"
