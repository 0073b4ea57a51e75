from django.apps import AppConfig


class SyncConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sync"
    verbose_name = "Sincronización"

    def ready(self):
        from .connectors.sae import register_owned

        register_owned()
