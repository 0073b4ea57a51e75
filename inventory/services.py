"""Writes of the warehouse: stock movements, their audit, reversion and cancellation.

Stock levels change only through ``_lock_levels`` (rows locked in one query ordered by pk) and
``_save_levels`` (one UPDATE), so the number of queries does not grow with the number of lines.
"""

from datetime import date as Date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection

from accounting.models import Account, JournalEntry
from accounting.services import cancel_entries, post_journal_entry, require_variables
from accounting.variables import Variable
from erp import taxes
from erp.bulk import insert_rows, update_columns
from erp.db import Rows, insert_family
from erp.errors import DomainError
from erp.money import ZERO, quantize, to_decimal
from erp.ownership import refuse_if_owned
from erp.transactions import business_action

from .models import (
    Product,
    ProductLine,
    StockLevel,
    StockMovement,
    StockMovementEvent,
    StockMovementLine,
    Warehouse,
)

QTY_PLACES = 4
COST_PLACES = 6


def _qty(value: Decimal) -> str:
    """A quantity as people write it: 4, 2.5 (not 4.0000)."""
    return f"{value.normalize():f}"


_LEVEL_COLUMNS = "id, company_id, warehouse_id, product_id, quantity, average_cost"


def _ids(values) -> str:
    """Integer ids written into the statement (``int`` makes each a number: nothing to quote). A
    page of 1,000 ids as 1,000 ``%s`` costs more to send than the query costs to run."""
    return ", ".join(str(int(value)) for value in values)


def _number(value, places: int) -> Decimal:
    # Postgres answers Decimal; SQLite (development) a float, as Django's converter would take it
    return value if isinstance(value, Decimal) else quantize(Decimal(str(value)), places)


class _Level:
    """A stock row as the services compute with it (``StockLevel``'s columns; ``pk`` None: a row
    to insert). A plain object, not a model instance: building 3,000 instances was a good part of
    what a sync page's stock cost, and nothing here needs what an instance adds."""

    __slots__ = ("pk", "company_id", "warehouse_id", "product_id", "quantity", "average_cost")

    def __init__(self, pk, company_id, warehouse_id, product_id, quantity, average_cost):
        self.pk = pk
        self.company_id = company_id
        self.warehouse_id = warehouse_id
        self.product_id = product_id
        self.quantity = quantity
        self.average_cost = average_cost


def _levels_from(rows) -> dict[int, _Level]:
    return {
        product: _Level(
            pk, company, warehouse, product, _number(quantity, QTY_PLACES), _number(cost, COST_PLACES)
        )
        for pk, company, warehouse, product, quantity, cost in rows
    }


def _select_levels(warehouse: Warehouse, product_ids) -> dict[int, _Level]:
    """The existing stock rows of the products in the warehouse, locked in pk order."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite locks the file
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_LEVEL_COLUMNS} FROM {StockLevel._meta.db_table} "
            f"WHERE warehouse_id = %s AND product_id IN ({_ids(ids)}) ORDER BY id{lock}",
            [warehouse.pk],
        )
        return _levels_from(cursor.fetchall())


def _lock_levels(
    *, company_id: int, warehouse: Warehouse, product_ids, known=None, new_products=frozenset()
) -> dict[int, _Level]:
    """The stock rows of the products in the warehouse, created if missing, locked. ``known``:
    rows the caller already locked (``_select_levels``), not asked again. ``new_products``: ids
    of products created in this transaction, so without a stock row anywhere and invisible to
    any other transaction until it ends: their rows start empty in memory and are inserted once
    by ``_save_levels`` with what the movement leaves (an insert of zeros and its update cost
    twice as much; a wrong claim is refused there by the unique (warehouse, product))."""
    ids = sorted(set(product_ids))
    levels = {
        pid: _Level(None, company_id, warehouse.pk, pid, ZERO, ZERO) for pid in ids if pid in new_products
    }
    levels.update(
        known if known is not None else _select_levels(warehouse, [i for i in ids if i not in levels])
    )
    missing = [pid for pid in ids if pid not in levels]
    if missing:  # a product's first movement in this warehouse (a concurrent one may create it too)
        table = StockLevel._meta.db_table
        rows = ", ".join(f"({int(company_id)}, {int(warehouse.pk)}, {int(pid)}, 0, 0)" for pid in missing)
        with connection.cursor() as cursor:
            # The rows this statement creates are this transaction's until it ends (locked);
            # those a concurrent movement created meanwhile are not returned, and are locked below.
            cursor.execute(
                f"INSERT INTO {table} (company_id, warehouse_id, product_id, quantity, average_cost) "
                f"VALUES {rows} ON CONFLICT (warehouse_id, product_id) DO NOTHING RETURNING {_LEVEL_COLUMNS}"
            )
            levels.update(_levels_from(cursor.fetchall()))
        still = [pid for pid in missing if pid not in levels]
        if still:
            levels.update(_select_levels(warehouse, still))
    return levels


def _save_levels(levels) -> None:
    """Write the locked levels' quantity and average cost in one statement, whatever their number
    (``erp.bulk.update_columns``, the one bulk writer the sync pages use too), and insert in one
    more those of products new in this transaction (``_lock_levels``)."""
    saved, new = [], []
    for level in levels:
        (new if level.pk is None else saved).append(level)
    update_columns(StockLevel, saved, ["quantity", "average_cost"])
    insert_rows(
        StockLevel,
        ["company_id", "warehouse_id", "product_id", "quantity", "average_cost"],
        [(lv.company_id, lv.warehouse_id, lv.product_id, lv.quantity, lv.average_cost) for lv in new],
    )


def _short_of_stock(*, warehouse, product, on_hand, needed, action="la salida requiere"):
    return DomainError(
        "existencia_insuficiente",
        f"No hay existencia suficiente de {product.code} {product.description} en la bodega "
        f"{warehouse.code}: hay {_qty(on_hand)} y {action} {_qty(needed)}.",
        status=409,
        product=product.code,
        on_hand=str(on_hand),
        needed=str(needed),
    )


def _take_in(level: _Level, quantity: Decimal, unit_cost: Decimal) -> None:
    """Weighted average: an entry recomputes the average over what is on hand (if anything is)."""
    on_hand = level.quantity
    new_quantity = on_hand + quantity
    if on_hand <= 0 or new_quantity <= 0:
        level.average_cost = unit_cost
    else:
        level.average_cost = quantize(
            (on_hand * level.average_cost + quantity * unit_cost) / new_quantity, COST_PLACES
        )
    level.quantity = new_quantity


def _take_out_entry(level: _Level, quantity: Decimal, unit_cost: Decimal) -> None:
    """Undo an entry: remove its units and their cost from the average."""
    remaining = level.quantity - quantity
    if remaining > 0:
        average = (level.quantity * level.average_cost - quantity * unit_cost) / remaining
        if average >= 0:
            level.average_cost = quantize(average, COST_PLACES)
    level.quantity = remaining


_LINE_FIELDS = ["position", "product_id", "quantity", "unit_cost", "total_cost"]


def _validate_lines(*, company, kind, lines) -> list[dict]:
    if not lines:
        raise DomainError("movimiento_sin_partidas", "El movimiento no tiene partidas.")
    clean = []
    for position, raw in enumerate(lines, start=1):
        product: Product = raw["product"]
        quantity = quantize(raw.get("quantity") or 0, QTY_PLACES)
        if product.company_id != company.pk:
            raise DomainError(
                "producto_invalido", f"Partida {position}: el producto {product.code} es de otra empresa."
            )
        if product.is_service:
            raise DomainError(
                "producto_invalido",
                f"Partida {position}: {product.code} es un servicio y no lleva existencias.",
            )
        if quantity <= 0:
            raise DomainError(
                "cantidad_invalida", f"Partida {position}: la cantidad debe ser mayor que cero."
            )
        unit_cost = ZERO
        if kind == StockMovement.Kind.ENTRY:
            if raw.get("unit_cost") is None or isinstance(raw["unit_cost"], str) and not raw["unit_cost"]:
                raise DomainError(
                    "costo_invalido", f"Partida {position}: indique el costo unitario de la entrada."
                )
            unit_cost = quantize(to_decimal(raw["unit_cost"]), COST_PLACES)
            if unit_cost < 0:
                raise DomainError(
                    "costo_invalido", f"Partida {position}: el costo unitario no puede ser negativo."
                )
        clean.append({"position": position, "product": product, "quantity": quantity, "unit_cost": unit_cost})
    return clean


def _post_cost_entry(*, movement: StockMovement, counterpart: Account, user) -> JournalEntry | None:
    """Cost of sales against inventory for an exit; the reverse for an entry (a return)."""
    amount = movement.total_cost
    if amount <= 0:
        return None
    inventory = movement.warehouse.inventory_account
    debit, credit = (
        (counterpart, inventory) if movement.kind == StockMovement.Kind.EXIT else (inventory, counterpart)
    )
    return post_journal_entry(
        company=movement.company,
        kind=JournalEntry.Kind.GENERAL,
        date=movement.date,
        concept=f"Costo: {movement.concept}"[:300],
        origin=movement.reference,
        lines=[
            {"account": debit, "debit": amount, "description": movement.concept[:200]},
            {"account": credit, "credit": amount, "description": movement.concept[:200]},
        ],
        user=user,
    )


def _record(movement: StockMovement, action: str, user) -> None:
    StockMovementEvent.objects.create(movement=movement, action=action, user=user)


@business_action
def create_stock_movement(
    *,
    company,
    warehouse: Warehouse,
    kind: str,
    date: Date,
    concept: str,
    lines: list[dict],
    origin: str = "",
    user=None,
    counterpart_account: Account | None = None,
) -> StockMovement:
    """Register an entry or an exit and apply it to the stock at once.

    ``lines``: dicts with ``product`` (a Product), ``quantity`` and, for entries, ``unit_cost``.
    Exits leave at the current average cost. A warehouse that refuses negative stock refuses an
    exit of more than it holds. A warehouse linked to accounting posts the cost entry against
    ``counterpart_account`` (default: the VEN_COSTO variable, cost of sales).
    """
    return _write_movement(
        company=company,
        warehouse=warehouse,
        kind=kind,
        date=date,
        concept=concept,
        lines=lines,
        origin=origin,
        user=user,
        counterpart_account=counterpart_account,
    )


def _check_warehouse(company, warehouse: Warehouse) -> None:
    if warehouse.company_id != company.pk:
        raise DomainError("bodega_invalida", "La bodega es de otra empresa.")
    if not warehouse.active:
        raise DomainError("bodega_inactiva", f"La bodega {warehouse.code} está inactiva.")


def _write_movement(
    *,
    company,
    warehouse: Warehouse,
    kind: str,
    date: Date,
    concept: str,
    lines: list[dict],
    origin: str = "",
    user=None,
    counterpart_account: Account | None = None,
    levels: dict[int, _Level] | None = None,
    audited: bool = False,
) -> StockMovement:
    """``create_stock_movement``'s work. ``levels``: stock rows the caller already locked
    (``adjust_stock`` reads them to count); ``audited``: the movement is born audited by ``user``
    (its two events, created and audited, written with it)."""
    _check_warehouse(company, warehouse)
    if kind not in StockMovement.Kind.values:
        raise DomainError("movimiento_invalido", "El movimiento es una entrada o una salida.")
    if not concept:
        raise DomainError("movimiento_invalido", "Indique el concepto del movimiento.")
    clean = _validate_lines(company=company, kind=kind, lines=lines)
    if warehouse.linked_to_accounting and counterpart_account is None:
        counterpart_account = require_variables(company=company, names=[Variable.COST_OF_SALES])[
            Variable.COST_OF_SALES
        ]
    levels = _lock_levels(
        company_id=company.pk,
        warehouse=warehouse,
        product_ids=[c["product"].pk for c in clean],
        known=levels,
    )
    movement = StockMovement(
        company=company,
        warehouse=warehouse,
        kind=kind,
        date=date,
        concept=concept[:300],
        origin=origin,
        status=StockMovement.Status.AUDITED if audited else StockMovement.Status.GENERATED,
    )
    built, total = [], ZERO
    for line in clean:
        level, product, quantity = levels[line["product"].pk], line["product"], line["quantity"]
        if kind == StockMovement.Kind.ENTRY:
            unit_cost = line["unit_cost"]
            _take_in(level, quantity, unit_cost)
        else:
            if not warehouse.allow_negative_stock and level.quantity < quantity:
                raise _short_of_stock(
                    warehouse=warehouse, product=product, on_hand=level.quantity, needed=quantity
                )
            unit_cost = level.average_cost
            level.quantity -= quantity
        line_total = quantize(quantity * unit_cost)
        total += line_total
        built.append((line["position"], product.pk, quantity, unit_cost, line_total))
    movement.total_cost = total
    events = [StockMovementEvent(movement=movement, action=StockMovementEvent.Action.CREATED, user=user)]
    if audited:
        events.append(
            StockMovementEvent(movement=movement, action=StockMovementEvent.Action.AUDITED, user=user)
        )
    # Postgres: the movement, its lines and its events in one statement (erp.db). The lines as
    # plain values (checked above by ``_validate_lines``): no model instance per line.
    lines_rows = Rows(StockMovementLine, _LINE_FIELDS, built)
    if insert_family(movement, [("movement_id", lines_rows), ("movement_id", events)]) is None:
        movement.save(force_insert=True)
        insert_rows(StockMovementLine, ["movement_id", *_LINE_FIELDS], [(movement.pk, *row) for row in built])
        for event in events:
            event.movement = movement
            event.save(force_insert=True)
    # only the rows this movement moved (``levels`` may hold the caller's others, unchanged)
    _save_levels(levels[line["product"].pk] for line in clean)
    if warehouse.linked_to_accounting:
        movement.journal_entry = _post_cost_entry(
            movement=movement, counterpart=counterpart_account, user=user
        )
        if movement.journal_entry:
            StockMovement.objects.filter(pk=movement.pk).update(journal_entry=movement.journal_entry)
    return movement


def _undo_stock(movement: StockMovement) -> None:
    """Take the movement's effect off the stock (entries out, exits back at their cost)."""
    warehouse = movement.warehouse
    lines = list(movement.lines.select_related("product").order_by("-position"))
    levels = _lock_levels(
        company_id=movement.company_id, warehouse=warehouse, product_ids=[line.product_id for line in lines]
    )
    for line in lines:
        level = levels[line.product_id]
        if movement.kind == StockMovement.Kind.ENTRY:
            if not warehouse.allow_negative_stock and level.quantity < line.quantity:
                raise _short_of_stock(
                    warehouse=warehouse,
                    product=line.product,
                    on_hand=level.quantity,
                    needed=line.quantity,
                    action="deshacer la entrada requiere",
                )
            _take_out_entry(level, line.quantity, line.unit_cost)
        else:
            _take_in(level, line.quantity, line.unit_cost)
    _save_levels(levels.values())


def _locked(movement: StockMovement) -> StockMovement:
    return (
        StockMovement.objects.select_for_update(of=("self",))
        .select_related("warehouse", "journal_entry", "company")
        .get(pk=movement.pk)
    )


def is_manager(*, warehouse: Warehouse, user) -> bool:
    if user is None:
        return False
    return user.is_superuser or warehouse.managers.filter(pk=user.pk).exists()


def can_audit(movement: StockMovement) -> bool:
    return movement.status == StockMovement.Status.GENERATED


def can_revert(movement: StockMovement) -> bool:
    return movement.status in (StockMovement.Status.GENERATED, StockMovement.Status.AUDITED)


def can_cancel(movement: StockMovement) -> bool:
    return movement.status != StockMovement.Status.CANCELLED


def _require_manager(movement: StockMovement, user, verb: str) -> None:
    if not is_manager(warehouse=movement.warehouse, user=user):
        raise DomainError(
            "no_es_encargado",
            f"Solo un encargado de la bodega {movement.warehouse.code} puede {verb} sus movimientos.",
            status=403,
        )


def _refuse(movement: StockMovement, verb: str) -> DomainError:
    return DomainError(
        "estatus_invalido",
        f"No se puede {verb} un movimiento {movement.get_status_display().lower()}.",
        status=409,
        status_actual=movement.status,
    )


@business_action
def audit_stock_movement(*, movement: StockMovement, user) -> StockMovement:
    """A manager of the warehouse confirms the physical movement."""
    movement = _locked(movement)
    _require_manager(movement, user, "auditar")
    if not can_audit(movement):
        raise _refuse(movement, "auditar")
    movement.status = StockMovement.Status.AUDITED
    movement.save(update_fields=["status"])
    _record(movement, StockMovementEvent.Action.AUDITED, user)
    return movement


@business_action
def revert_stock_movement(*, movement: StockMovement, user) -> StockMovement:
    """A manager undoes the movement's stock effect (and its cost entry); it can then only be cancelled."""
    movement = _locked(movement)
    _require_manager(movement, user, "revertir")
    if not can_revert(movement):
        raise _refuse(movement, "revertir")
    _undo_stock(movement)
    cancel_entries(entries=[movement.journal_entry], user=user)
    movement.status = StockMovement.Status.REVERTED
    movement.save(update_fields=["status"])
    _record(movement, StockMovementEvent.Action.REVERTED, user)
    return movement


@business_action
def cancel_stock_movement(*, movement: StockMovement, user=None, by_owner: bool = False) -> StockMovement:
    """Cancel a movement; unless it was reverted, its stock effect and cost entry are undone. One
    a document wrote is cancelled only by that document (erp.ownership)."""
    movement = _locked(movement)
    if not can_cancel(movement):
        raise _refuse(movement, "cancelar")
    refuse_if_owned(origin=movement.origin, what="Este movimiento de almacén", by_owner=by_owner)
    if movement.status != StockMovement.Status.REVERTED:
        _undo_stock(movement)
        cancel_entries(entries=[movement.journal_entry], user=user)
    movement.status = StockMovement.Status.CANCELLED
    movement.save(update_fields=["status"])
    _record(movement, StockMovementEvent.Action.CANCELLED, user)
    return movement


@business_action
def adjust_stock(
    *,
    company,
    warehouse: Warehouse,
    date: Date,
    concept: str,
    origin: str,
    counts: list[dict],
    user=None,
    new_products=frozenset(),
) -> list[StockMovement]:
    """Bring the warehouse's stock of each product to a counted quantity (a physical count, or
    the master system a sync follows): what is short enters at ``unit_cost`` (the count's cost;
    the current average when not given), what is over leaves at the average cost. At most two
    movements (an entry and an exit), each with as many lines as products, written as
    ``create_stock_movement`` writes any movement, so the average cost, the cost póliza
    (warehouse linked to accounting) and the history are those of any movement; both are
    recorded as audited at once, by ``user`` or by the system: the count is the confirmation.

    The counted products' stock rows are locked before they are compared (those missing are
    created first, as a movement creates them: a product's first movement in the warehouse,
    written meanwhile, is waited for and counted), so a movement written meanwhile cannot make
    the difference wrong.

    ``counts``: dicts with ``product``, ``quantity`` (what must be on hand) and ``unit_cost``.
    ``new_products``: ids of counted products the caller created in this transaction (a sync
    page): their stock rows are inserted once, with what the count leaves (``_lock_levels``).
    Products already at their count produce nothing; returns the movements written."""
    wanted = {}
    for count in counts:
        wanted[count["product"].pk] = (count["product"], quantize(count["quantity"], QTY_PLACES), count)
    _check_warehouse(company, warehouse)  # before its stock rows are created
    # (a service, or another company's product, holds no stock: refused below if it must move)
    stocked = [
        pk
        for pk, (product, _, _) in wanted.items()
        if product.company_id == company.pk and not product.is_service
    ]
    levels = _lock_levels(
        company_id=company.pk, warehouse=warehouse, product_ids=stocked, new_products=new_products
    )
    entries, exits = [], []
    for product_id, (product, target, count) in wanted.items():
        level = levels.get(product_id)
        on_hand = level.quantity if level else ZERO
        difference = target - on_hand
        if difference > 0:
            cost = count.get("unit_cost")
            if cost is None or isinstance(cost, str) and not cost:  # (a Decimal == "" is slow)
                cost = level.average_cost if level else ZERO
            entries.append({"product": product, "quantity": difference, "unit_cost": cost})
        elif difference < 0:
            exits.append({"product": product, "quantity": -difference})
    movements = []
    for kind, lines in ((StockMovement.Kind.ENTRY, entries), (StockMovement.Kind.EXIT, exits)):
        if not lines:
            continue
        movements.append(
            _write_movement(
                company=company,
                warehouse=warehouse,
                kind=kind,
                date=date,
                concept=concept,
                lines=lines,
                origin=origin,
                user=user,
                levels=levels,
                audited=True,
            )
        )
    # a new product counted at zero moves nothing: its row is created empty, as any counted
    # product's (the others were inserted by their movement)
    moved = {line["product"].pk for line in entries + exits}
    _save_levels(level for pid, level in levels.items() if level.pk is None and pid not in moved)
    return movements


_PRODUCT_KNOWN = ["company", "line"]


@business_action
def save_products_batch(
    *,
    company,
    new: list[Product],
    changed: list[Product],
    fields: list[str],
    checked: list[str] | None = None,
) -> list[tuple[Product, ValidationError]]:
    """Write many products at once (a sync page): each is validated as the product form
    validates it (``full_clean``: SAT keys, CFDI text, rates, its line's company), the valid ones
    are written in bulk and the rejected are returned with their error. Changed products update
    only ``fields``. The caller sets ``line`` as an object of the company (no query per row).
    ``checked``: the fields the caller set (the others keep their defaults or their stored
    values): only their validators run, with the product's own ``clean`` — the same rules
    without walking the fields a sync never sets (as ``sales.services.save_customers_batch``)."""
    if checked is None:

        def check(product):
            product.full_clean(exclude=_PRODUCT_KNOWN, validate_unique=False, validate_constraints=False)

    else:
        skipped = [
            f.name for f in Product._meta.concrete_fields if f.name not in checked or f.name in _PRODUCT_KNOWN
        ]

        def check(product):
            product.clean_fields(exclude=skipped)
            product.clean()

    rejected: list[tuple[Product, ValidationError]] = []
    valid_new, valid_changed = [], []
    for products, valid in ((new, valid_new), (changed, valid_changed)):
        for product in products:
            product.company = company
            if product.line is not None and product.line.company_id != company.pk:
                rejected.append((product, ValidationError({"line": "La línea es de otra empresa."})))
                continue
            try:
                check(product)
            except ValidationError as error:
                rejected.append((product, error))
                continue
            # What Product.save keeps in step: the older applies_iva flag follows the treatment.
            product.applies_iva = product.iva_treatment in (taxes.IVA_TAXED, taxes.IVA_ZERO)
            valid.append(product)
    Product.objects.bulk_create(valid_new, batch_size=1000)
    columns = [*fields, "applies_iva"] if "iva_treatment" in fields else fields
    for start in range(0, len(valid_changed), 1000):
        update_columns(Product, valid_changed[start : start + 1000], columns)
    return rejected


@business_action
def save_product_lines_batch(*, company, new: list[ProductLine], changed: list[ProductLine]) -> list:
    """Product lines from a sync: validated, created in bulk, changed ones renamed."""
    rejected = []
    valid_new, valid_changed = [], []
    for lines, valid in ((new, valid_new), (changed, valid_changed)):
        for line in lines:
            line.company = company
            try:
                line.full_clean(exclude=["company"], validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                rejected.append((line, error))
                continue
            valid.append(line)
    ProductLine.objects.bulk_create(valid_new)
    update_columns(ProductLine, valid_changed, ["name"])
    return rejected
