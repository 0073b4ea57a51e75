from django.apps import AppConfig


class CashbankConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cashbank"
    verbose_name = "Caja y bancos"
