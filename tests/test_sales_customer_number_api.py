"""``customer`` in the sales documents' API is the customer's number within the entity, both ways
(issue 19): the answer carries the number it was given, the row's id as ``customer_id`` and the
name; a number the entity lacks is a Spanish 400 naming the field, and nothing is written."""

from decimal import Decimal

import pytest
from django.utils import timezone

from sales.models import Customer, SalesDocument
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    WarehouseFactory,
    sales_entity,
    set_all_variables,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verified_books")]

HELP = "Número del cliente en la entidad (0 = mostrador)."
KINDS = ["quotes", "orders", "remissions", "invoices"]


@pytest.fixture
def entity(company):
    ProductFactory(company=company, code="A", unit="PZA", list_price=Decimal("11.50"))
    set_all_variables(company)
    warehouse = WarehouseFactory(company=company, allow_negative_stock=True)
    # Another entity's customers first, so that numbers and ids cannot coincide by chance.
    other = sales_entity(company, code="OTRA", series="O", warehouse=warehouse)
    for number in (1, 2, 3, 4, 5):
        CustomerFactory(entity=other, number=number, rfc=f"XOT80010{number}AB1")
    entity = sales_entity(company, warehouse=warehouse)
    CustomerFactory(entity=entity, number=1)
    CustomerFactory(entity=entity, number=2, rfc="XEX9901017A1", name="CLIENTE DOS")
    return entity


@pytest.fixture
def client(cashier, api_as):
    return api_as(cashier)


def body(entity, customer, **overrides):
    return {
        "entity": entity.pk,
        "customer": customer,
        "date": str(timezone.localdate()),
        "payment": "credit",
        "lines": [{"product": "A", "quantity": "2"}],
        **overrides,
    }


@pytest.mark.parametrize("kind", KINDS)
def test_the_answer_carries_the_number_it_was_given(kind, entity, client):
    two = Customer.objects.get(entity=entity, number=2)
    assert two.pk != 2  # the test means something only if id and number differ
    created = client.post(f"/api/sales/{kind}/", body(entity, 2), format="json")
    assert created.status_code == 201, created.json()
    answer = created.json()
    assert (answer["customer"], answer["customer_id"], answer["customer_name"]) == (2, two.pk, "CLIENTE DOS")
    assert "customer_number" not in answer  # one name for one thing
    assert SalesDocument.objects.get(pk=answer["id"]).customer_id == two.pk

    detail = client.get(f"/api/sales/{kind}/{answer['id']}/").json()
    assert (detail["customer"], detail["customer_id"]) == (2, two.pk)
    # Lists filter by the number (with the entity) or by the id.
    by_number = client.get(f"/api/sales/{kind}/", {"entity": entity.pk, "customer": 2}).json()["results"]
    by_id = client.get(f"/api/sales/{kind}/", {"customer_id": two.pk}).json()["results"]
    other = client.get(f"/api/sales/{kind}/", {"entity": entity.pk, "customer": 1}).json()["results"]
    assert [r["id"] for r in by_number] == [r["id"] for r in by_id] == [answer["id"]]
    assert other == []


def test_the_preview_answers_the_number_too(entity, client):
    preview = client.post("/api/sales/invoices/preview/", body(entity, 2), format="json")
    assert preview.status_code == 200, preview.json()
    two = Customer.objects.get(entity=entity, number=2)
    assert (preview.json()["customer"], preview.json()["customer_id"]) == (2, two.pk)


@pytest.mark.parametrize("kind", KINDS)
def test_a_number_the_entity_lacks_is_a_spanish_400_and_creates_nothing(kind, entity, client):
    # Customer 5 exists, but in the other entity; its id is not a number here either.
    elsewhere = Customer.objects.get(entity__code="OTRA", number=5)
    for number in (5, elsewhere.pk):
        response = client.post(f"/api/sales/{kind}/", body(entity, number), format="json")
        assert response.status_code == 400
        error = response.json()
        assert error["code"] == "validacion"
        assert error["message"] == f"customer: No existe el cliente {number} en esta entidad."
        assert error["details"] == {"customer": [f"No existe el cliente {number} en esta entidad."]}
    assert not SalesDocument.objects.exists()


def test_a_draft_is_corrected_with_the_number(entity, client):
    created = client.post("/api/sales/invoices/", body(entity, 1), format="json").json()
    two = Customer.objects.get(entity=entity, number=2)
    corrected = client.put(f"/api/sales/invoices/{created['id']}/", body(entity, 2), format="json")
    assert corrected.status_code == 200, corrected.json()
    assert (corrected.json()["customer"], corrected.json()["customer_id"]) == (2, two.pk)
    assert SalesDocument.objects.get(pk=created["id"]).customer_id == two.pk

    refused = client.put(f"/api/sales/invoices/{created['id']}/", body(entity, 77), format="json")
    assert refused.status_code == 400
    assert refused.json()["details"] == {"customer": ["No existe el cliente 77 en esta entidad."]}
    assert SalesDocument.objects.get(pk=created["id"]).customer_id == two.pk  # unchanged


def test_the_schema_names_the_field_both_ways(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    for name in ("DocumentInputRequest", "PaymentInputRequest", "TicketInvoiceInputRequest"):
        assert schema[name]["properties"]["customer"]["description"].startswith("Número del cliente")
    assert schema["DocumentInputRequest"]["properties"]["customer"]["description"] == HELP
    for name in ("Document", "Preview", "CreditNote", "Payment", "Advance", "XmlInvoiceList"):
        properties = schema[name]["properties"]
        assert properties["customer"]["description"] == HELP and properties["customer"]["readOnly"]
        assert properties["customer_id"]["readOnly"] and "customer_name" in properties
