"""Writes of the sales catalogs."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from erp.bulk import update_columns
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


# Fields whose rows the batch caller resolves within the company itself (company and entity from
# the locked entity, the salesperson from one lookup of the company's salespeople), so
# ``full_clean`` does not check their existence with a query per row; ``Customer.clean`` still
# checks that they belong to the customer's company.
_KNOWN = ["company", "entity", "salesperson"]


def customer_row_error(customer: Customer, *, exclude: tuple[str, ...] = ()) -> ValidationError | None:
    """The customer form's validation of one row of a batch (RFC and its check digit, SAT
    catalogs, régimen and uso del CFDI against the person type, postal code, ...) without a query
    per row: the error, or None when the row is valid. Used by ``save_customers_batch`` and by
    the customer file's preview, so both refuse exactly the same rows."""
    try:
        customer.full_clean(exclude=[*_KNOWN, *exclude], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        return error
    return None


def _checker(checked: list[str] | None):
    """How each row of a batch is validated: as the customer form validates it (``full_clean``),
    or, with ``checked``, the rules of those fields (their validators: RFC, SAT catalogs, C.P.,
    CFDI text...) and the customer's own ``clean`` (RFC check digit, régimen and uso del CFDI
    against the person type, the generic RFC): the same rules without walking the fields a sync
    never sets. ``check(customer, only=[...])`` narrows both to the fields a changed customer
    changes: their validators, and the rules of ``clean`` that read one of them (a new régimen
    is still weighed against the RFC and the uso del CFDI); a rule over values all unchanged
    held when they were stored (the RFC, the match key, is not re-checked on every update)."""
    if checked is None:
        return lambda customer, only=None: customer_row_error(customer)
    names = [f.name for f in Customer._meta.concrete_fields]
    excludes: dict[tuple[str, ...], set[str]] = {}

    def check(customer, only: list[str] | None = None) -> ValidationError | None:
        key = tuple(checked if only is None else (f for f in only if f in checked))
        exclude = excludes.get(key)
        if exclude is None:
            exclude = excludes[key] = {name for name in names if name not in key}
        try:
            customer.clean_fields(exclude=exclude)
            customer.clean(changed=only)
        except ValidationError as error:
            return error
        return None

    return check


def save_customers_batch(
    *,
    entity: SalesEntity,
    new: list[Customer],
    changed: list[Customer],
    fields: list[str],
    new_validated: bool = False,
    checked: list[str] | None = None,
    changed_fields: dict[int, list[str]] | None = None,
) -> list[tuple[Customer, ValidationError]]:
    """Write many customers at once (a sync page): each is validated as the customer form
    validates it (``full_clean``: RFC, SAT catalogs, régimen and uso del CFDI against the person
    type), the valid ones are written in bulk and the rejected are returned with their error.
    ``new_validated``: the caller already ran ``customer_row_error`` on these very new customers'
    values (the customer file's preview, whose stored rows are created unchanged), so it is not
    run twice; changed customers are always validated (other fields may have moved meanwhile).
    ``checked``: the fields the caller set (the others keep their defaults or their stored
    values): only their validators run, with the customer's ``clean`` — what a sync that sets a
    handful of fields passes to validate 100,000 rows quickly. ``changed_fields`` (with
    ``checked``): by ``id(customer)``, the fields the caller found changed on each changed
    customer (it compared the source with the stored row): only those fields' validators run
    on it, and the rules of its ``clean`` that read them; a customer missing from it is checked
    on all of ``checked`` and every rule of ``clean``.

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
                error = None if new_validated else check(customer)
                if error is not None:
                    rejected.append((customer, error))
                    continue
                valid_new.append(customer)
                number += 1
            Customer.objects.bulk_create(valid_new, batch_size=1000)
        valid_changed = []
        changed_fields = changed_fields or {}
        for customer in changed:
            error = check(customer, changed_fields.get(id(customer)))
            if error is not None:
                rejected.append((customer, error))
                continue
            valid_changed.append(customer)
        for start in range(0, len(valid_changed), 1000):
            _update_columns(valid_changed[start : start + 1000], fields)
    return rejected


def _update_columns(customers: list[Customer], fields: list[str]) -> None:
    update_columns(Customer, customers, fields)
