"""Stock movements through the API and the admin: create, filter, actions, refusals."""

from datetime import date
from decimal import Decimal

import pytest

from erp.models import Role
from inventory.models import StockLevel, StockMovement
from inventory.services import create_stock_movement
from tests.factories import ProductFactory, WarehouseFactory, user_with_role

pytestmark = pytest.mark.django_db
URL = "/api/inventory/stock-movements/"


@pytest.fixture
def setup(company, accountant):
    warehouse = WarehouseFactory(company=company, code="B1")
    warehouse.managers.add(accountant)
    return warehouse, ProductFactory(company=company, code="TOR-01", description="Tornillo")


def payload(company, warehouse, product, kind="entry", quantity="10", unit_cost="2.50"):
    line = {"product": product.pk, "quantity": quantity}
    if unit_cost is not None:
        line["unit_cost"] = unit_cost
    return {"company": company.pk, "warehouse": warehouse.pk, "kind": kind, "date": "2026-02-10",
            "concept": "Compra", "origin": "Compras|7|MTY||", "lines": [line]}  # fmt: skip


def test_create_list_detail_and_audit(company, accountant, api_as, setup):
    warehouse, product = setup
    client = api_as(accountant)
    created = client.post(URL, payload(company, warehouse, product), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "generated" and body["total_cost"] == "25.00"
    assert body["lines"][0]["product_code"] == "TOR-01"
    assert body["events"][0]["action"] == "created" and body["events"][0]["username"] == accountant.username

    listed = client.get(URL, {"warehouse": warehouse.pk, "kind": "entry", "date_from": "2026-02-01"}).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert client.get(URL, {"date_from": "2026-03-01"}).json()["results"] == []

    audited = client.post(f"{URL}{body['id']}/audit/")
    assert audited.status_code == 200, audited.json()
    assert audited.json()["status"] == "audited"
    assert [e["action"] for e in audited.json()["events"]] == ["created", "audited"]

    levels = client.get("/api/inventory/stock-levels/", {"warehouse": warehouse.pk}).json()["results"]
    assert [(row["product_code"], row["quantity"], row["average_cost"]) for row in levels] == [
        ("TOR-01", "10.0000", "2.500000")
    ]


def test_negative_stock_exit_answers_409_with_the_message_and_writes_nothing(
    company, accountant, api_as, setup
):
    warehouse, product = setup
    client = api_as(accountant)
    client.post(URL, payload(company, warehouse, product, quantity="3"), format="json")
    refused = client.post(
        URL, payload(company, warehouse, product, kind="exit", quantity="5", unit_cost=None), format="json"
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "existencia_insuficiente"
    assert refused.json()["message"] == (
        "No hay existencia suficiente de TOR-01 Tornillo en la bodega B1: hay 3 y la salida requiere 5."
    )
    assert StockMovement.objects.count() == 1
    assert StockLevel.objects.get().quantity == Decimal(3)


def test_cashier_can_read_but_not_create_or_audit(company, accountant, cashier, api_as, setup):
    warehouse, product = setup
    movement_id = (
        api_as(accountant).post(URL, payload(company, warehouse, product), format="json").json()["id"]
    )
    client = api_as(cashier)
    assert client.get(f"{URL}{movement_id}/").status_code == 200
    assert client.post(URL, payload(company, warehouse, product), format="json").status_code == 403
    assert client.post(f"{URL}{movement_id}/audit/").status_code == 403
    assert StockMovement.objects.get().status == "generated"


def test_non_manager_accountant_cannot_audit(company, api_as, setup):
    warehouse, product = setup
    other = user_with_role(company, Role.ACCOUNTANT, username="contador2")
    client = api_as(other)
    movement_id = client.post(URL, payload(company, warehouse, product), format="json").json()["id"]
    refused = client.post(f"{URL}{movement_id}/audit/")
    assert refused.status_code == 403
    assert refused.json()["message"] == "Solo un encargado de la bodega B1 puede auditar sus movimientos."


def test_revert_then_cancel_through_the_api(company, accountant, api_as, setup):
    warehouse, product = setup
    client = api_as(accountant)
    movement_id = client.post(URL, payload(company, warehouse, product), format="json").json()["id"]
    assert client.post(f"{URL}{movement_id}/revert/").json()["status"] == "reverted"
    again = client.post(f"{URL}{movement_id}/revert/")
    assert again.status_code == 409 and again.json()["code"] == "estatus_invalido"
    assert client.post(f"{URL}{movement_id}/cancel/").json()["status"] == "cancelled"
    assert StockLevel.objects.get().quantity == 0


def test_other_companys_movement_answers_404(company, other_company, accountant, api_as):
    warehouse = WarehouseFactory(company=other_company)
    product = ProductFactory(company=other_company)
    owner = user_with_role(other_company, Role.ACCOUNTANT, username="ajeno")
    movement_id = (
        api_as(owner).post(URL, payload(other_company, warehouse, product), format="json").json()["id"]
    )
    client = api_as(accountant)
    assert client.get(f"{URL}{movement_id}/").status_code == 404
    assert client.post(f"{URL}{movement_id}/cancel/").status_code == 404
    assert client.post(URL, payload(other_company, warehouse, product), format="json").status_code == 404
    assert StockMovement.objects.get().status == "generated"


def test_admin_actions_call_the_services_and_show_their_message(company, accountant, setup, client):
    warehouse, product = setup
    other = user_with_role(company, Role.ACCOUNTANT, username="contador3")
    client.force_login(accountant)
    assert client.get("/admin/inventory/stockmovement/").status_code == 200

    movement = create_stock_movement(
        company=company, warehouse=warehouse, kind="entry", date=date(2026, 2, 10), concept="Compra",
        lines=[{"product": product, "quantity": 2, "unit_cost": 1}],
    )  # fmt: skip
    changelist = "/admin/inventory/stockmovement/"
    response = client.post(
        changelist, {"action": "audit_movements", "_selected_action": [movement.pk]}, follow=True
    )
    assert response.status_code == 200
    movement.refresh_from_db()
    assert movement.status == "audited"
    assert client.get(f"{changelist}{movement.pk}/change/").status_code == 200

    client.force_login(other)
    response = client.post(
        changelist, {"action": "revert_movements", "_selected_action": [movement.pk]}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("Solo un encargado de la bodega B1 puede revertir sus movimientos." in m for m in messages)
    movement.refresh_from_db()
    assert movement.status == "audited"


def test_accountant_registers_a_movement_in_the_admin(company, accountant, setup, client):
    warehouse, product = setup
    client.force_login(accountant)
    url = "/admin/inventory/stockmovement/add/"
    page = client.get(url)
    assert page.status_code == 200
    assert "<th>Producto</th><th>Cantidad</th><th>Costo unitario (entradas)</th>" in page.content.decode()
    form = {"warehouse": warehouse.pk, "kind": "exit", "date": "2026-02-10", "concept": "Merma", "origin": "",
            "lines-TOTAL_FORMS": "8", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000",
            "lines-0-product": product.pk, "lines-0-quantity": "2"}  # fmt: skip
    refused = client.post(url, form)
    assert "hay 0 y la salida requiere 2" in refused.content.decode()
    assert StockMovement.objects.count() == 0

    created = client.post(url, {**form, "kind": "entry", "lines-0-unit_cost": "3.50"})
    assert created.status_code == 302
    assert StockLevel.objects.get().quantity == 2
