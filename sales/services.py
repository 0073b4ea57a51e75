"""Writes of the sales catalogs."""

from django.db import transaction
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
