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

from django.db import connection

_SIZED_TEXT = re.compile(r"^varchar\(\d+\)$")


def _insertable(model):
    return [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]


def _casted(field) -> str:
    # The column's type, so that Postgres need not guess it from a VALUES list; without a length
    # for text (an explicit CAST to varchar(n) truncates, where the INSERT must refuse).
    db_type = _SIZED_TEXT.sub("varchar", field.cast_db_type(connection))
    return f"CAST(%s AS {db_type})"


def _values(obj, fields) -> list:
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def insert_family(
    parent,
    children: list[tuple[str, list]] = (),
    *,
    prelude: str = "",
    prelude_params: list | tuple = (),
    computed: dict[str, str] | None = None,
) -> bool | None:
    """Insert ``parent`` and its ``children`` (pairs of the children's foreign-key attname to the
    parent, and the unsaved child objects) in one statement; set every primary key and the
    foreign keys. ``prelude``: SQL of a data-modifying query whose one row the parent reads
    (``computed``: parent attname → ``prelude.column``); when it returns no row nothing is
    written and the answer is False. ``None``: not Postgres, nothing written."""
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
            params.append(_values(parent, [field])[0])
    back = [f"{q(model._meta.get_field(name).column)}" for name in computed]
    ctes.append(
        f"p AS (INSERT INTO {q(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)}{' FROM prelude' if prelude else ''} "
        f"RETURNING {', '.join([q(model._meta.pk.column), *back])})"
    )
    outputs = []
    for n, (fk_attname, objs) in enumerate(children):
        if not objs:
            continue
        child_model = objs[0].__class__
        child_fields = [f for f in _insertable(child_model) if f.attname != fk_attname]
        fk_column = child_model._meta.get_field(fk_attname).column
        row = "(" + ", ".join(_casted(f) for f in child_fields) + ")"
        for obj in objs:
            params.extend(_values(obj, child_fields))
        names = [q(f.column) for f in child_fields]
        ctes.append(
            f"c{n} AS (INSERT INTO {q(child_model._meta.db_table)} ({q(fk_column)}, {', '.join(names)}) "
            f"SELECT p.{q(model._meta.pk.column)}, v.* FROM p, (VALUES {', '.join([row] * len(objs))}) "
            f"AS v({', '.join(names)}) RETURNING {q(child_model._meta.pk.column)} AS id)"
        )
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
