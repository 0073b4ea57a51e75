from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from .services import sync_role_groups

    sync_role_groups()


class ErpConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "erp"
    verbose_name = "Empresa y configuración"

    def ready(self):
        # Groups depend on every app's permissions, which each app's post_migrate creates, so
        # rebuild them after each app's (cheap and idempotent; the last run sees them all).
        post_migrate.connect(_sync_roles, dispatch_uid="erp_sync_roles")
