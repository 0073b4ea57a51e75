"""The one meaning of ``customer`` in the sales API, both ways: the customer's NUMBER within the
sales entity (0 = mostrador), as the seed's "Cliente" field and the printed documents show it.
Responses add the read-only ``customer_id`` (the database id) and ``customer_name`` so nothing is
lost; the customer catalog (/api/sales/customers/) is where the id is the row's own key."""

import django_filters
from rest_framework import serializers

from .models import Customer, SalesEntity

CUSTOMER_HELP = "Número del cliente en la entidad (0 = mostrador)."
CUSTOMER_ID_HELP = "Id del cliente en la base de datos (/api/sales/customers/{id}/); solo lectura."


def customer_number_input(**kwargs) -> serializers.IntegerField:
    """The request field: a customer number, resolved against the document's entity."""
    kwargs.setdefault("help_text", CUSTOMER_HELP)
    return serializers.IntegerField(min_value=0, **kwargs)


def customer_number_output(source: str = "customer_number") -> serializers.IntegerField:
    """The response field: the number (by default the document's own copy of it)."""
    return serializers.IntegerField(source=source, read_only=True, help_text=CUSTOMER_HELP)


def customer_id_output() -> serializers.IntegerField:
    return serializers.IntegerField(
        read_only=True, help_text=CUSTOMER_ID_HELP
    )  # the field is named customer_id


def customer_in_entity(entity: SalesEntity, number: int, *, field: str = "customer") -> Customer:
    """The entity's customer with that number, or a Spanish 400 naming the field."""
    customer = Customer.objects.filter(entity=entity, number=number).select_related("salesperson").first()
    if customer is None:
        raise serializers.ValidationError({field: f"No existe el cliente {number} en esta entidad."})
    return customer


def customer_number_filter(field_name: str = "customer_number") -> django_filters.NumberFilter:
    """``?customer=N``: by number (with ``entity`` to name one customer)."""
    return django_filters.NumberFilter(field_name=field_name, help_text=CUSTOMER_HELP)


def customer_id_filter() -> django_filters.NumberFilter:
    return django_filters.NumberFilter(field_name="customer_id", help_text=CUSTOMER_ID_HELP)
