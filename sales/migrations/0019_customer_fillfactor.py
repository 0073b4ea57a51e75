"""Room on each page of the customers' table for in-place (HOT) updates.

A sync rewrites the customers whose data changed at the source (régimen, correo, C.P., ...): with
15% of each page left free, Postgres writes the new version beside the old one without touching
the table's seven indexes, instead of a new entry in each. Only pages written from now on keep
the room (a table rewrite, e.g. ``VACUUM FULL``, applies it to all). Nothing to do on SQLite.
"""

from django.db import migrations


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE sales_customer SET (fillfactor = 85)")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE sales_customer RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("sales", "0018_spanish_labels")]

    operations = [migrations.RunPython(leave_room, fill_pages)]
