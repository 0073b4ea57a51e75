from django.apps import AppConfig


class CfdiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cfdi"
    verbose_name = "CFDI"
