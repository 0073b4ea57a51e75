from django.apps import AppConfig


class SalesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sales"
    verbose_name = "Ventas"

    def ready(self):
        # Rows the sales documents write belong to them (erp.ownership).
        from .ownership import register

        register()
