from django.db import migrations

from erp.currencies import SEED_CURRENCIES as CURRENCIES


def seed(apps, schema_editor):
    Currency = apps.get_model("erp", "Currency")
    for code, name, decimals, national in CURRENCIES:
        Currency.objects.get_or_create(
            code=code, defaults={"name": name, "decimals": decimals, "is_national": national}
        )


class Migration(migrations.Migration):
    dependencies = [("erp", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
