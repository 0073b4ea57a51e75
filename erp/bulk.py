"""Bulk writes shared by the services that write a sync page at once."""

from django.db import connection


def update_columns(model, rows: list, fields: list[str]) -> None:
    """One ``UPDATE … FROM (VALUES …)`` for many rows of ``model``: what ``bulk_update`` does,
    without the CASE per row and field that makes it slow for a sync page (Postgres and SQLite
    ≥ 3.33). ``rows`` are saved instances; only ``fields`` are written."""
    if not rows:
        return
    columns = [model._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in columns)
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    params = [
        value
        for obj in rows
        for value in (obj.pk, *(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns))
    ]
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v(id, {names}) AS (VALUES {', '.join([row] * len(rows))}) "
            f"UPDATE {table} SET {sets} FROM v WHERE {table}.id = v.id",
            params,
        )
