"""Bulk reads and writes shared by the services that write a sync page at once.

On Postgres a page travels as one JSON parameter (an array of rows): a short, fixed
statement whatever the number of rows, encoded in C on our side and parsed at once by the server
(a parameter per value, or a Python-built array per column, costs several times more).
"""

import json
import re

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections

from erp.db import prepared_values


def _base_type(field) -> str:
    # varchar, not varchar(13): a cast to the column's type would cut a long text silently, the
    # assignment to the column refuses it.
    return re.sub(r"\(.*\)", "", field.cast_db_type(connection))


def as_json(rows) -> str:
    return json.dumps(rows, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


def oldest_by_key(model, *, company_id: int, key: str, values: list[str], fields: list[str]) -> dict:
    """The company's rows of ``model`` whose ``key`` is one of ``values``, the oldest (lowest
    id) for each value, as tuples of ``fields`` (attnames) keyed by the value: what a sync page
    matches its records against, in one statement.

    On Postgres one index lookup per value (the values joined ``LATERAL`` to the row with the
    lowest id, through the index on (company, key)), so its cost follows the page, not the
    table, whatever the planner's statistics say: right after a large import (or with
    autovacuum off) the plain ``company = … AND key IN (…)`` is planned as a scan of all the
    company's rows, once per page. Elsewhere the ORM's ``IN``."""
    found: dict = {}
    if not values:
        return found
    at = fields.index(key)
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        column = quote(model._meta.get_field(key).column)
        selected = ", ".join(f"m.{quote(model._meta.get_field(name).column)}" for name in fields)
        company = quote(model._meta.get_field("company").column)
        pk = quote(model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {selected} FROM json_array_elements_text(%s::json) AS k(value) CROSS JOIN LATERAL "
                f"(SELECT * FROM {table} WHERE {company} = %s AND {column} = k.value ORDER BY {pk} LIMIT 1) AS m",
                [as_json(list(dict.fromkeys(values))), company_id],
            )
            for row in cursor.fetchall():
                found[row[at]] = row
        return found
    rows = model.objects.filter(company_id=company_id, **{f"{key}__in": values}).order_by("-pk")
    for row in rows.values_list(*fields):
        found[row[at]] = row  # the last one seen, the oldest, is kept
    return found


def update_columns(model, rows: list, fields: list[str]) -> None:
    """One statement for many rows of ``model``: what ``bulk_update`` does, without the CASE per
    row and field that makes it slow for a sync page. ``rows`` are saved instances; only
    ``fields`` are written. On Postgres an ``UPDATE … FROM jsonb_array_elements(…)``; elsewhere
    (SQLite ≥ 3.33) ``UPDATE … FROM (VALUES …)``."""
    if not rows:
        return
    columns = [model._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    if connection.vendor == "postgresql":
        db = connections[connection.alias]
        values = [[obj.pk, *prepared_values(obj, columns, db, adding=False)] for obj in rows]
        sets = ", ".join(f"{quote(f.column)} = v.c{i}" for i, f in enumerate(columns, 1))
        cells = ", ".join(
            f"(x->>{i})::{_base_type(f)} AS c{i}" for i, f in enumerate([model._meta.pk, *columns])
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM (SELECT {cells} FROM jsonb_array_elements(%s::jsonb) AS x) AS v "
                f"WHERE {table}.{quote(model._meta.pk.column)} = v.c0",
                [as_json(values)],
            )
        return
    values = [
        [obj.pk, *(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns)] for obj in rows
    ]
    names = ", ".join(quote(f.column) for f in columns)
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v(id, {names}) AS (VALUES {', '.join([row] * len(rows))}) "
            f"UPDATE {table} SET {sets} FROM v WHERE {table}.id = v.id",
            [value for row in values for value in row],
        )


def insert_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert many rows of ``model`` given as plain tuples of ``fields`` (attnames), values as
    the database takes them, checked by the caller: ``bulk_create`` without a model instance per
    row, which for a sync page's stock cost more than the insert. On Postgres one
    ``INSERT … SELECT … FROM jsonb_array_elements(…)``; elsewhere ``bulk_create``."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(model(**dict(zip(fields, row, strict=True))) for row in rows)
        return
    columns = [model._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    cells = ", ".join(f"(x->>{i})::{_base_type(f)}" for i, f in enumerate(columns))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) "
            f"SELECT {cells} FROM jsonb_array_elements(%s::jsonb) AS x",
            [as_json(rows)],
        )
