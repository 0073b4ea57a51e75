"""Writes of the sales catalogs."""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max

from erp.rfc import RFC_PUBLICO_GENERAL
from erp.services import save_catalog_row

from .models import COUNTER_CUSTOMER_NAME, COUNTER_CUSTOMER_NUMBER, Customer, SalesEntity


def save_sales_entity(*, entity: SalesEntity, m2m: dict | None = None) -> SalesEntity:
    """Save an entity; a new one gets its counter customer (number 0, público en general)."""
    with transaction.atomic():
        is_new = entity.pk is None
        save_catalog_row(instance=entity, m2m=m2m)
        if is_new:
            ensure_counter_customer(entity=entity)
    return entity


def ensure_counter_customer(*, entity: SalesEntity) -> Customer:
    customer = Customer.objects.filter(entity=entity, number=COUNTER_CUSTOMER_NUMBER).first()
    if customer:
        return customer
    return save_catalog_row(
        instance=Customer(
            company_id=entity.company_id,
            entity=entity,
            number=COUNTER_CUSTOMER_NUMBER,
            rfc=RFC_PUBLICO_GENERAL,
            name=COUNTER_CUSTOMER_NAME,
            postal_code=entity.company.postal_code,
            regimen_fiscal="616",
            uso_cfdi="S01",
            forma_pago="01",
        )
    )


def next_customer_number(*, entity: SalesEntity) -> int:
    last = Customer.objects.filter(entity=entity).aggregate(n=Max("number"))["n"]
    return (last or 0) + 1


_KNOWN = ["company", "entity"]


def _checker(checked: list[str] | None):
    """How each row of a batch is validated: as the customer form validates it (``full_clean``),
    or, with ``checked``, the rules of those fields (their validators: RFC, SAT catalogs, C.P.,
    CFDI text...) and the customer's own ``clean`` (RFC check digit, régimen and uso del CFDI
    against the person type, the generic RFC): the same rules without walking the fields a sync
    never sets."""
    if checked is None:
        return lambda customer: customer.full_clean(
            exclude=_KNOWN, validate_unique=False, validate_constraints=False
        )
    exclude = [f.name for f in Customer._meta.concrete_fields if f.name not in checked]

    def check(customer):
        customer.clean_fields(exclude=exclude)
        customer.clean()

    return check


def save_customers_batch(
    *,
    entity: SalesEntity,
    new: list[Customer],
    changed: list[Customer],
    fields: list[str],
    checked: list[str] | None = None,
) -> list[tuple[Customer, ValidationError]]:
    """Write many customers at once (a sync page): each is validated as the customer form
    validates it (``full_clean``: RFC, SAT catalogs, régimen and uso del CFDI against the person
    type), the valid ones are written in bulk and the rejected are returned with their error.
    ``checked``: the fields the caller set (the others keep their defaults or their stored
    values): only their validators run, with the customer's ``clean`` — what a sync that sets a
    handful of fields passes to validate 100,000 rows quickly.

    New customers are numbered after the entity's last one under the entity's row lock, so a
    customer typed meanwhile cannot take the same number; changed customers update only
    ``fields``. No per-row query: numbers are assigned here under the lock (uniqueness), and
    company and entity come from the locked entity (no existence check per row); a changed
    customer's ``entity`` and ``company`` should be set from objects in memory (the caller's
    cache), or ``clean`` reads them.
    """
    check = _checker(checked)
    rejected: list[tuple[Customer, ValidationError]] = []
    with transaction.atomic():
        if new:
            SalesEntity.objects.select_for_update().filter(pk=entity.pk).first()
            number = next_customer_number(entity=entity)
            valid_new = []
            for customer in new:
                customer.entity = entity
                customer.company = entity.company
                customer.number = number
                try:
                    check(customer)
                except ValidationError as error:
                    rejected.append((customer, error))
                    continue
                valid_new.append(customer)
                number += 1
            Customer.objects.bulk_create(valid_new, batch_size=1000)
        valid_changed = []
        for customer in changed:
            try:
                check(customer)
            except ValidationError as error:
                rejected.append((customer, error))
                continue
            valid_changed.append(customer)
        for start in range(0, len(valid_changed), 1000):
            _update_columns(valid_changed[start : start + 1000], fields)
    return rejected


def _update_columns(customers: list[Customer], fields: list[str]) -> None:
    """One ``UPDATE … FROM (VALUES …)`` for many rows: what ``bulk_update`` does, without the
    CASE per row and field that makes it slow for a sync page (Postgres and SQLite ≥ 3.33)."""
    if not customers:
        return
    columns = [Customer._meta.get_field(name) for name in fields]
    names = ", ".join(connection.ops.quote_name(f.column) for f in columns)
    sets = ", ".join(
        f"{connection.ops.quote_name(f.column)} = v.{connection.ops.quote_name(f.column)}" for f in columns
    )
    row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    params = [
        value
        for c in customers
        for value in (c.pk, *(f.get_db_prep_save(getattr(c, f.attname), connection) for f in columns))
    ]
    table = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v(id, {names}) AS (VALUES {', '.join([row] * len(customers))}) "
            f"UPDATE {table} SET {sets} FROM v WHERE {table}.id = v.id",
            params,
        )
