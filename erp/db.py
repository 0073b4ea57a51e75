"""Writing a row and its children in one round trip (Postgres).

Posting an invoice writes a dozen small rows, each a parent with its children (a póliza and its
lines, a stock movement and its lines and event). On Postgres each family goes in one statement
with data-modifying CTEs: the database does the same work, the client waits once instead of three
times. Other databases (SQLite in development) write them one statement at a time, as the ORM
does: ``insert_family`` answers ``None`` there and the caller saves the usual way.

Only inserts of plain rows: no signals, no ``save()`` overrides (callers use it for models that
have none), field values prepared by each field as ``Model.save()`` would.
"""

import re
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, connections, models

_SIZED_TEXT = re.compile(r"^varchar\(\d+\)$")


def _insertable(model):
    return [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]


def _column_type(field) -> str:
    # The column's type, so that Postgres need not guess it from the values; without a length
    # for text (an explicit CAST to varchar(n) truncates, where the INSERT must refuse).
    return _SIZED_TEXT.sub("varchar", field.cast_db_type(connection))


def _casted(field) -> str:
    return f"CAST(%s AS {_column_type(field)})"


def _casted_array(field) -> str:
    """A column of the children as one array parameter."""
    return f"CAST(%s AS {_column_type(field)}[])"


# Fields whose value, when already of this type, goes to Postgres as it is (what their
# ``get_db_prep_save`` answers there): a page of stock lines is thousands of values, and the
# fields' preparation was most of what writing them cost. Exact classes only: a subclass may
# prepare its value (an encrypted text, a money type).
_PLAIN = {
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.DecimalField: Decimal,
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
}
_INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField)


def _plain_type(field):
    if type(field) is models.ForeignKey and type(field.target_field) in _INTEGER_KEYS:
        return int
    return _PLAIN.get(type(field))


def prepared_values(obj, fields, db=None, *, adding: bool = True) -> list:
    """What Postgres receives for each of ``obj``'s ``fields``, as ``Model.save()`` prepares it
    (``adding``: an insert, ``pre_save`` runs; an update writes the value as it is); plain
    values go as they are (``_PLAIN``). Postgres only (``insert_family``,
    ``erp.bulk.update_columns``)."""
    db = db or connections[connection.alias]  # not the proxy: it looks the connection up per value
    values = []
    for field in fields:
        value = getattr(obj, field.attname)
        plain = _plain_type(field)
        if plain is None or not (value is None or type(value) is plain):
            value = field.get_db_prep_save(field.pre_save(obj, True) if adding else value, db)
        values.append(value)
    return values


class Rows(NamedTuple):
    """Children of ``insert_family`` given as plain values: ``fields`` (attnames, without the
    foreign key to the parent) and a tuple of their values per child, as the database takes them
    and checked by the caller. No model instance per child (a stock page's 3,000 lines cost more
    to build as instances than to insert); their ids are not set back."""

    model: type
    fields: list[str]
    values: list[tuple]


def insert_family(
    parent,
    children: list[tuple[str, list]] = (),
    *,
    prelude: str = "",
    prelude_params: list | tuple = (),
    computed: dict[str, str] | None = None,
) -> bool | None:
    """Insert ``parent`` and its ``children`` (pairs of the children's foreign-key attname to the
    parent, and the unsaved child objects or their ``Rows``) in one statement; set every primary
    key and the foreign keys (of child objects). ``prelude``: SQL of a data-modifying query
    whose one row the parent reads (``computed``: parent attname → ``prelude.column``); when it
    returns no row nothing is written and the answer is False. ``None``: not Postgres, nothing written."""
    if connection.vendor != "postgresql":
        return None
    q = connection.ops.quote_name
    computed = computed or {}
    model = parent.__class__
    fields = _insertable(model)
    ctes, params = [], []
    if prelude:
        ctes.append(f"prelude AS ({prelude})")
        params.extend(prelude_params)
    columns, selects = [], []
    for field in fields:
        columns.append(q(field.column))
        if field.attname in computed:
            selects.append(computed[field.attname])
        else:
            selects.append(_casted(field))
            params.append(prepared_values(parent, [field])[0])
    back = [f"{q(model._meta.get_field(name).column)}" for name in computed]
    ctes.append(
        f"p AS (INSERT INTO {q(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)}{' FROM prelude' if prelude else ''} "
        f"RETURNING {', '.join([q(model._meta.pk.column), *back])})"
    )
    outputs = []
    for n, (fk_attname, objs) in enumerate(children):
        if not (objs.values if isinstance(objs, Rows) else objs):
            continue
        db = connections[connection.alias]
        if isinstance(objs, Rows):
            child_model = objs.model
            child_fields = [child_model._meta.get_field(name) for name in objs.fields]
            rows = objs.values
        else:
            child_model = objs[0].__class__
            child_fields = [f for f in _insertable(child_model) if f.attname != fk_attname]
            rows = [prepared_values(obj, child_fields, db) for obj in objs]
        fk_column = child_model._meta.get_field(fk_attname).column
        # One array per column (UNNEST keeps the order of the children, so the ids returned in
        # order are theirs): a stock movement of 1,000 lines is 6 parameters, not 6,000.
        arrays = ", ".join(_casted_array(f) for f in child_fields)
        params.extend([row[i] for row in rows] for i in range(len(child_fields)))
        names = [q(f.column) for f in child_fields]
        ctes.append(
            f"c{n} AS (INSERT INTO {q(child_model._meta.db_table)} ({q(fk_column)}, {', '.join(names)}) "
            f"SELECT p.{q(model._meta.pk.column)}, {', '.join('v.' + name for name in names)} "
            f"FROM p, UNNEST({arrays}) WITH ORDINALITY "
            f"AS v({', '.join(names)}, ordinality) ORDER BY v.ordinality "
            f"RETURNING {q(child_model._meta.pk.column)} AS id)"
        )
        if not isinstance(objs, Rows):  # (a data-modifying CTE runs whether read or not)
            outputs.append((n, fk_attname, objs))
    arrays = [f"(SELECT array_agg(id ORDER BY id) FROM c{n})" for n, _, _ in outputs]
    sql = f"WITH {', '.join(ctes)} SELECT p.*{''.join(', ' + a for a in arrays)} FROM p"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    parent.pk = row[0]
    for name, value in zip(computed, row[1 : 1 + len(computed)], strict=True):
        setattr(parent, name, value)
    parent._state.adding, parent._state.db = False, connection.alias
    for (_, fk_attname, objs), ids in zip(outputs, row[1 + len(computed) :], strict=True):
        for obj, pk in zip(objs, ids, strict=True):
            obj.pk = pk
            setattr(obj, fk_attname, parent.pk)
            obj._state.adding, obj._state.db = False, connection.alias
    return True
