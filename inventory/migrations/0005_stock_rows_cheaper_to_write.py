"""Stock rows cheaper to write: a sync page writes thousands at once (a first run: a stock row and a
movement line per product and warehouse).

- No index of their own for ``StockLevel.warehouse`` and ``StockMovementLine.movement``: each is
  the first column of a unique constraint, whose index serves the same lookups; one index less
  to write per row.
- Room on each page of the stock levels' table for in-place (HOT) updates: a stock row is
  created and then written (its first movement), and rewritten by every movement after; with
  half of each page free, Postgres writes the new version beside the old one instead of a new
  entry in each of the table's indexes. The table is small (a row per product and warehouse).
  Only pages written from now on keep the room. Nothing to do on SQLite.
"""

import django.db.models.deletion
from django.db import migrations, models


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE inventory_stocklevel SET (fillfactor = 50)")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE inventory_stocklevel RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0004_cfdi_safe_description"),
    ]

    operations = [
        migrations.AlterField(
            model_name="stocklevel",
            name="warehouse",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="stock_levels",
                to="inventory.warehouse",
                verbose_name="bodega",
            ),
        ),
        migrations.AlterField(
            model_name="stockmovementline",
            name="movement",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="lines",
                to="inventory.stockmovement",
                verbose_name="movimiento",
            ),
        ),
        migrations.RunPython(leave_room, fill_pages),
    ]
