"""Cancelling invoices through the API by the seed's seven rules, and tracking them."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from accounting.models import JournalEntry
from cashbank.models import CashBankAccount, CashMovement
from cfdi.models import CfdiDocument, Csd
from demo.services import load_demo
from inventory.models import Product, StockLevel, StockMovement, Warehouse
from inventory.services import create_stock_movement
from sales.models import SalesDocument, SalesEntity
from sales.receivables.models import Receivable
from sales.receivables.services import apply_receivable_record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verified_books")]
DAY = date(2026, 11, 20)
LINES = [{"product": "A", "quantity": "100"}, {"product": "B", "quantity": "200"}]


@pytest.fixture
def demo():
    demo = load_demo()
    Csd.objects.filter(company=demo.company).update(active=False)  # rule 6 is tested on its own below
    create_stock_movement(
        company=demo.company,
        warehouse=Warehouse.objects.get(company=demo.company, code="ALM"),
        kind="entry",
        date=date(2026, 11, 1),
        concept="Inventario inicial",
        lines=[
            {"product": Product.objects.get(company=demo.company, code=c), "quantity": 500, "unit_cost": "5"}
            for c in ("A", "B")
        ],
    )
    return demo


@pytest.fixture
def client(demo, api_as):
    return api_as(get_user_model().objects.get(username="contador"))


def pachuca(demo):
    return SalesEntity.objects.get(company=demo.company, code="PACHUCA")


def posted(client, demo, payment="credit", collections=None, source_url=None):
    if source_url:
        invoice = client.post(source_url).json()
    else:
        body = {
            "entity": pachuca(demo).pk,
            "customer": 1,
            "date": str(DAY),
            "payment": payment,
            "lines": LINES,
        }
        invoice = client.post("/api/sales/invoices/", body, format="json").json()
    response = client.post(
        f"/api/sales/invoices/{invoice['id']}/post/", {"collections": collections or []}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def cancel(client, invoice):
    return client.post(f"/api/sales/invoices/{invoice['id']}/cancel/")


def on_hand(code):
    return StockLevel.objects.get(warehouse__code="ALM", product__code=code).quantity


def test_rule_1_the_source_is_freed_to_be_invoiced_again(demo, client):
    order = client.post(
        "/api/sales/orders/",
        {"entity": pachuca(demo).pk, "customer": 1, "date": str(DAY), "payment": "credit", "lines": LINES},
        format="json",
    ).json()
    invoice = posted(client, demo, source_url=f"/api/sales/orders/{order['id']}/generate-invoice/")
    assert client.post(f"/api/sales/orders/{order['id']}/generate-invoice/").status_code == 409
    assert cancel(client, invoice).status_code == 200
    again = client.post(f"/api/sales/orders/{order['id']}/generate-invoice/")
    assert again.status_code == 201 and again.json()["source"] == order["id"]


def test_rule_2_cash_movements_are_cancelled(demo, client):
    caja = CashBankAccount.objects.get(company=demo.company, code="CAJA")
    invoice = posted(client, demo, "cash", [{"account": caja.pk, "amount": "3654.00"}])
    response = cancel(client, invoice)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    movement = CashMovement.objects.get(origin=f"VFAC|{invoice['id']}|PACHUCA||")
    assert movement.status == "cancelled"
    assert JournalEntry.objects.get(origin=movement.origin, kind="I").status == "cancelled"


def test_rule_3_receivable_cancelled_only_without_applied_records(demo, client):
    invoice = posted(client, demo, "credit")
    receivable = Receivable.objects.get(origin=f"VFAC|{invoice['id']}|PACHUCA||")
    record = apply_receivable_record(
        receivable=receivable, kind="payment", amount=Decimal("100.00"), date=DAY
    )

    refused = cancel(client, invoice)
    assert refused.status_code == 409
    assert "Cancele primero estos registros" in refused.json()["message"]
    receivable.refresh_from_db()
    assert receivable.status == "active" and on_hand("A") == 400  # nothing undone
    assert SalesDocument.objects.get(pk=invoice["id"]).status == "generated"

    from sales.receivables.services import cancel_receivable_record

    cancel_receivable_record(record=record)
    assert cancel(client, invoice).status_code == 200
    receivable.refresh_from_db()
    assert receivable.status == "cancelled"


def test_rule_4_remission_stock_stays_while_own_exit_is_undone(demo, client):
    remission = client.post(
        "/api/sales/remissions/",
        {"entity": pachuca(demo).pk, "customer": 1, "date": str(DAY), "payment": "credit", "lines": LINES},
        format="json",
    ).json()
    from_remission = posted(
        client, demo, source_url=f"/api/sales/remissions/{remission['id']}/generate-invoice/"
    )
    direct = posted(client, demo, "credit")
    assert on_hand("A") == 300

    assert cancel(client, from_remission).status_code == 200
    remission_exit = StockMovement.objects.get(origin=f"VREM|{remission['id']}|PACHUCA||")
    assert remission_exit.status == "generated" and remission_exit.journal_entry.status == "posted"
    assert on_hand("A") == 300

    assert cancel(client, direct).status_code == 200
    assert StockMovement.objects.get(origin=f"VFAC|{direct['id']}|PACHUCA||").status == "cancelled"
    assert on_hand("A") == 400


def test_rule_5_every_entry_of_the_invoice_is_cancelled(demo, client):
    invoice = posted(client, demo, "credit")
    origin = f"VFAC|{invoice['id']}|PACHUCA||"
    cost_entry = StockMovement.objects.get(origin=origin).journal_entry
    assert cancel(client, invoice).status_code == 200
    assert set(JournalEntry.objects.filter(origin=origin).values_list("status", flat=True)) == {"cancelled"}
    cost_entry.refresh_from_db()
    assert cost_entry.status == "cancelled"


def test_rule_6_a_stamped_cfdi_must_be_cancelled_with_sat_first(
    demo, client, django_capture_on_commit_callbacks
):
    Csd.objects.filter(company=demo.company).update(active=True)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = posted(client, demo, "credit")
    origin = f"VFAC|{invoice['id']}|PACHUCA||"
    no_motive = cancel(client, invoice)
    assert no_motive.status_code == 400 and no_motive.json()["code"] == "motivo_requerido"
    no_substitute = client.post(
        f"/api/sales/invoices/{invoice['id']}/cancel/", {"motive": "01"}, format="json"
    )
    assert no_substitute.status_code == 400
    assert SalesDocument.objects.get(pk=invoice["id"]).status == "generated"
    assert Receivable.objects.get(origin=origin).status == "active"
    cfdi = CfdiDocument.objects.get(source_id=invoice["id"])
    assert cfdi.cancellation_status == ""

    response = client.post(f"/api/sales/invoices/{invoice['id']}/cancel/", {"motive": "02"}, format="json")
    assert response.status_code == 200, response.json()
    cfdi.refresh_from_db()
    assert (cfdi.cancellation_status, cfdi.cancellation_motive, cfdi.status) == ("accepted", "02", "stamped")
    assert response.json()["status"] == "cancelled"
    assert Receivable.objects.get(origin=origin).status == "cancelled"


def test_rule_6_books_wait_for_an_applied_record_before_sat_is_asked(
    demo, client, django_capture_on_commit_callbacks
):
    Csd.objects.filter(company=demo.company).update(active=True)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = posted(client, demo, "credit")
    receivable = Receivable.objects.get(origin=f"VFAC|{invoice['id']}|PACHUCA||")
    apply_receivable_record(receivable=receivable, kind="payment", amount=Decimal("1.00"), date=DAY)
    response = client.post(f"/api/sales/invoices/{invoice['id']}/cancel/", {"motive": "02"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "cxc_con_registros"
    assert CfdiDocument.objects.get(source_id=invoice["id"]).cancellation_status == ""  # SAT never asked


def test_a_cancelled_invoice_cannot_be_cancelled_again(demo, client):
    invoice = posted(client, demo, "credit")
    cancel(client, invoice)
    again = cancel(client, invoice)
    assert again.status_code == 409 and again.json()["message"] == "La factura ya está cancelada."


def test_track_shows_the_tree_of_records(demo, client):
    caja = CashBankAccount.objects.get(company=demo.company, code="CAJA")
    invoice = posted(client, demo, "cash", [{"account": caja.pk, "amount": "3654.00"}])
    tree = client.get(f"/api/sales/invoices/{invoice['id']}/track/").json()
    assert tree["type"] == "factura" and tree["status"] == "Generada"
    kinds = [child["type"] for child in tree["children"]]
    assert kinds == ["caja_banco", "almacen"]
    cash = tree["children"][0]
    assert "CAJA 3654.00" in cash["label"] and cash["children"][0]["type"] == "poliza"
    assert tree["children"][1]["children"][0]["type"] == "poliza"  # the cost entry


def test_track_shows_the_receivable_and_the_diario(demo, client):
    invoice = posted(client, demo, "credit")
    kinds = [c["type"] for c in client.get(f"/api/sales/invoices/{invoice['id']}/track/").json()["children"]]
    assert kinds == ["cuenta_por_cobrar", "almacen", "poliza"]


def test_quotes_orders_and_remissions_are_cancelled_and_tracked(demo, client):
    body = {"entity": pachuca(demo).pk, "customer": 1, "date": str(DAY), "payment": "credit", "lines": LINES}
    quote = client.post("/api/sales/quotes/", body, format="json").json()
    assert client.post(f"/api/sales/quotes/{quote['id']}/cancel/").json()["status"] == "cancelled"
    refused = client.post(f"/api/sales/quotes/{quote['id']}/generate-invoice/")
    assert refused.status_code == 409

    remission = client.post("/api/sales/remissions/", body, format="json").json()
    assert on_hand("A") == 400
    invoice = posted(client, demo, source_url=f"/api/sales/remissions/{remission['id']}/generate-invoice/")
    tree = client.get(f"/api/sales/remissions/{remission['id']}/track/").json()
    assert [c["type"] for c in tree["children"]] == ["factura", "almacen"]

    invoiced = client.post(f"/api/sales/remissions/{remission['id']}/cancel/")
    assert invoiced.status_code == 409 and invoiced.json()["code"] == "documento_facturado"
    assert on_hand("A") == 400

    client.post(f"/api/sales/invoices/{invoice['id']}/cancel/")
    assert client.post(f"/api/sales/remissions/{remission['id']}/cancel/").status_code == 200
    assert on_hand("A") == 500  # the remission's goods are back


def test_the_admin_page_shows_the_tracking_tree(demo, client):
    from django.test import Client

    invoice = posted(client, demo, "credit")
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="contador"))
    page = browser.get(f"/admin/sales/salesdocument/{invoice['id']}/change/").content.decode()
    assert "Rastreo" in page and "Cuenta por cobrar A1 saldo 3654.00" in page and "Póliza Diario" in page


# -- issue 10: who may cancel a posted invoice ------------------------------------------------


def test_cashiers_and_integrators_do_not_cancel_a_posted_invoice_unless_the_company_allows(
    demo, client, api_as
):
    invoice = posted(client, demo)
    users = get_user_model().objects
    for name in ("cajero", "integrador"):
        response = cancel(api_as(users.get(username=name)), invoice)
        assert response.status_code == 403, response.content
        assert set(response.json()) == {"code", "message", "details"}
    assert SalesDocument.objects.get(pk=invoice["id"]).status != "cancelled"

    demo.company.cashiers_cancel_invoices = True
    demo.company.save(update_fields=["cashiers_cancel_invoices"])
    assert cancel(api_as(users.get(username="integrador")), invoice).status_code == 403
    response = cancel(api_as(users.get(username="cajero")), invoice)
    assert response.status_code == 200, response.json()
    assert SalesDocument.objects.get(pk=invoice["id"]).status == "cancelled"
