"""Settings from the environment, with embedded defaults (SQLite, eager tasks, console mail)."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY es obligatorio cuando DEBUG está apagado.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# HTTPS (issue 10). In production (DEBUG off) everything is served over HTTPS by default: HTTP is
# redirected, cookies are secure-only and browsers are told to keep to HTTPS (HSTS). Each can be
# set from the environment; `manage.py check --deploy` is clean with the defaults. A reverse
# proxy that terminates TLS says so with a header: SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto,https"
# (set it only behind a proxy that sets that header itself, or anyone can claim HTTPS).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Asking browsers to preload HSTS is a decision per domain (every subdomain must then have HTTPS,
# for good): off unless SECURE_HSTS_PRELOAD says so, and check --deploy does not nag about it.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_REDIRECT_EXEMPT = env_list("SECURE_REDIRECT_EXEMPT", "")
SESSION_COOKIE_HTTPONLY = True
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    _header, _, _value = os.environ["SECURE_PROXY_SSL_HEADER"].partition(",")
    if not _value.strip():
        raise ImproperlyConfigured(
            'SECURE_PROXY_SSL_HEADER va como "Encabezado,valor", p. ej. "X-Forwarded-Proto,https".'
        )
    _header = _header.strip().upper().replace("-", "_")
    SECURE_PROXY_SSL_HEADER = (_header if _header.startswith("HTTP_") else f"HTTP_{_header}", _value.strip())

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",  # login forms: failed attempts per account and address (issue 10)
    "erp",
    "accounting",
    "cashbank",
    "inventory",
    "cfdi",
    "sales",
    "sync",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "erp.middleware.ApiErrorShapeMiddleware",  # Django's own errors under /api/ in the API's shape
    "django.contrib.sessions.middleware.SessionMiddleware",
    "erp.middleware.ScreensInSpanishLocaleMiddleware",  # Accept-Language only for the API
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

if not DEBUG:  # runserver serves static files in development; whitenoise does in production
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "erp.urls"
WSGI_APPLICATION = "erp.wsgi.application"
ASGI_APPLICATION = "erp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'erp.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Embedded mode serves several threads and workers: a writer waits up to 30 s for another
    # instead of SQLite's 5 (on a loaded machine the fuzz saw "database is locked" as 500s).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "es-mx"
LANGUAGES = [("es-mx", "Español (México)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Mexico_City")
USE_I18N = True
USE_TZ = True

# Logins (issue 10). The login forms go through django-axes first; API tokens are throttled by DRF
# (REST_FRAMEWORK's login_* rates). Either way an account (or a client address) with too many wrong
# passwords inside the window is refused, the right password included, until the window passes.
AUTHENTICATION_BACKENDS = [
    "erp.login.LoginFormAxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# The throttles' counters live in the cache: per process unless CACHE_URL names a shared Redis
# (docker-compose does), e.g. redis://127.0.0.1:6379/2.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["CACHE_URL"]}
        if os.environ.get("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 10))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", 15))
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = LOGIN_LOCKOUT_MINUTES / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "erp.login.client_address"
# Behind a reverse proxy set TRUSTED_PROXIES=1: the client is then the last X-Forwarded-For hop.
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/inicio/"  # by role: erp.views.home
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# Secrets stored in the database (CSD keys, PAC and connector credentials) are encrypted with
# this Fernet key. The development default is derived from SECRET_KEY so a fresh clone works.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
if not FIELD_ENCRYPTION_KEY and not DEBUG:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY es obligatorio cuando DEBUG está apagado.")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "facturacion@localhost")

# Celery: with no broker configured, tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Redis redelivers a message whose worker died (acks_late) after this many seconds; workers
# sweep for such messages every interval × throttle seconds (kombu's defaults: 10 × 10).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": int(os.environ.get("CELERY_UNACKED_RESTORE_INTERVAL", "10")),
    "unacked_restore_throttle": int(os.environ.get("CELERY_UNACKED_RESTORE_THROTTLE", "10")),
}

# Periodic tasks, all in this one place (django-celery-beat stores them for the beat process).
CELERY_BEAT_SCHEDULE = {
    "cfdi-refresh-pending-cancellations": {
        "task": "cfdi.tasks.refresh_pending_cancellations_task",
        "schedule": 30 * 60,  # SAT gives the receiver 72 hours to answer
    },
    # Global invoice of counter sales (issue 17): each entity with «emitir automáticamente» gets the
    # one of the period that ended yesterday.
    "sales-issue-due-global-invoices": {
        "task": "sales.global_invoice.tasks.issue_due_global_invoices_task",
        "schedule": 24 * 60 * 60,
    },
    # --- sync (issue 12): each connection's own schedule is a periodic task kept by sync.services.
    "sync-purge-old-events": {"task": "sync.tasks.purge_sync_events_task", "schedule": 24 * 60 * 60},
}

# Sync engine (issue 12): event retention, the run lease (non-overlap lock) and source retries.
SYNC_EVENT_RETENTION_DAYS = int(os.environ.get("SYNC_EVENT_RETENTION_DAYS", "90"))
SYNC_LEASE_SECONDS = float(os.environ.get("SYNC_LEASE_SECONDS", "120"))
SYNC_SOURCE_ATTEMPTS = int(os.environ.get("SYNC_SOURCE_ATTEMPTS", "3"))
SYNC_RETRY_BASE_SECONDS = float(os.environ.get("SYNC_RETRY_BASE_SECONDS", "2"))
SYNC_DEMO_SOURCE = env_bool("SYNC_DEMO_SOURCE", DEBUG)  # the demo's QR receivers at /sync/demo-qr/

# CFDI delivery: an unreachable PAC or mail server is retried after 2, 4, 8 ... seconds, capped.
CFDI_RETRY_BASE_SECONDS = float(os.environ.get("CFDI_RETRY_BASE_SECONDS", "2"))
CFDI_RETRY_MAX_SECONDS = float(os.environ.get("CFDI_RETRY_MAX_SECONDS", "600"))

# A request body under /api/ may have DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) of JSON or form data,
# or this much as multipart files (an external CFDI's XML, 2 MB, and PDF, 10 MB); more is 413.
API_MAX_UPLOAD_BYTES = int(os.environ.get("API_MAX_UPLOAD_BYTES", 16 * 1024 * 1024))
# A customer file (issue 13) may weigh up to this much, uploaded on the screen, posted to the API or
# read from FTP; its API route takes it (and a little multipart framing) past API_MAX_UPLOAD_BYTES.
CUSTOMER_FILE_MAX_BYTES = int(os.environ.get("CUSTOMER_FILE_MAX_BYTES", 50 * 1024 * 1024))
API_LARGE_UPLOAD_ROUTES = {r"^/api/sync/connections/\d+/import/$": "CUSTOMER_FILE_MAX_BYTES"}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "erp.pagination.ErpPagination",
    "PAGE_SIZE": 50,
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "login_account": f"{LOGIN_FAILURE_LIMIT}/{LOGIN_LOCKOUT_MINUTES}m",
        "login_address": f"{LOGIN_FAILURE_LIMIT * 5}/{LOGIN_LOCKOUT_MINUTES}m",
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "erp.api_errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    # 1e999, NaN and Infinity are refused as bad JSON (issue 21).
    "DEFAULT_PARSER_CLASSES": [
        "erp.api_parsers.FiniteJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ERP API",
    "DESCRIPTION": "API REST del ERP: catálogos, ventas, inventario, caja y bancos, contabilidad y CFDI.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind" or a "status" of their own: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "CustomerImportStatusEnum": "sync.models.CustomerImport.Status",
        "JournalEntryKindEnum": "accounting.models.JournalEntry.Kind",
        "JournalEntryStatusEnum": "accounting.models.JournalEntry.Status",
        "PaymentRecordKindEnum": "accounting.models.PaymentRecord.Kind",
        "CashBankAccountKindEnum": "cashbank.models.CashBankAccount.Kind",
        "CashMovementKindEnum": "cashbank.models.CashMovement.Kind",
        "CashMovementStatusEnum": "cashbank.models.CashMovement.Status",
        "StockMovementKindEnum": "inventory.models.StockMovement.Kind",
        "StockMovementStatusEnum": "inventory.models.StockMovement.Status",
        "CfdiDocumentKindEnum": "cfdi.models.CfdiDocument.Kind",
        "CfdiDocumentStatusEnum": "cfdi.models.CfdiDocument.Status",
        "CancellationMotiveEnum": "cfdi.models.CfdiDocument.Motive",
        "ReceivableStatusEnum": "sales.receivables.models.Receivable.Status",
        "ReceivableRecordKindEnum": "sales.receivables.models.ReceivableRecord.Kind",
        "ReceivableRecordStatusEnum": "sales.receivables.models.ReceivableRecord.Status",
        "SalesDocumentKindEnum": "sales.document_models.DocumentKind",
        "SalesDocumentStatusEnum": "sales.document_models.DocumentStatus",
        "CreditNoteKindEnum": "sales.returns.models.CreditNote.Kind",
        "CreditNoteStatusEnum": "sales.returns.models.CreditNote.Status",
        "CustomerPaymentStatusEnum": "sales.payments.models.CustomerPayment.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # weasyprint narrates every PDF at INFO; the workers render many.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
}
