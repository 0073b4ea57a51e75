"""E) A posted invoice gets its CFDI after commit; "Sellar" retries one that failed."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from lxml import etree

from cfdi.models import CfdiDocument, Csd
from demo.services import load_demo
from inventory.models import Product, Warehouse
from inventory.services import create_stock_movement
from sales.models import SalesDocument, SalesEntity

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verified_books")]
CFDI = "{http://www.sat.gob.mx/cfd/4}"


@pytest.fixture
def demo():
    demo = load_demo()
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
    return api_as(get_user_model().objects.get(username="cajero"))


def add_invoice(client, demo, customer=1, payment="credit", collections=None):
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    body = {
        "entity": entity.pk,
        "customer": customer,
        "date": str(date.today()),
        "payment": payment,
        "lines": [{"product": "A", "quantity": "100"}, {"product": "B", "quantity": "200"}],
    }
    invoice = client.post("/api/sales/invoices/", body, format="json").json()
    response = client.post(
        f"/api/sales/invoices/{invoice['id']}/post/", {"collections": collections or []}, format="json"
    )
    assert response.status_code == 200, response.json()
    return invoice["id"]


def test_posting_stamps_the_invoice_after_commit(demo, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoice_id = add_invoice(client, demo)

    cfdi = CfdiDocument.objects.get(source_model="sales.salesdocument", source_id=invoice_id)
    assert cfdi.status == "stamped" and cfdi.uuid
    root = etree.fromstring(bytes(cfdi.xml))
    assert (
        root.get("Serie"),
        root.get("Folio"),
        root.get("Total"),
        root.get("MetodoPago"),
        root.get("FormaPago"),
    ) == (
        "A",
        "1",
        "3654.00",
        "PPD",
        "99",
    )
    assert root.find(f"{CFDI}Receptor").get("Rfc") == "URE180429TM6"
    detail = client.get(f"/api/sales/invoices/{invoice_id}/").json()
    assert (detail["cfdi"], detail["cfdi_error"]) == ("PDF", "")  # eager pipeline: stamped and printed
    assert client.get("/api/sales/invoices/").json()["results"][0]["cfdi"] == "PDF"


def test_counter_cash_sale_is_stamped_to_publico_en_general(demo, client, django_capture_on_commit_callbacks):
    caja = demo.company.cashbankaccount_set.get(code="CAJA")
    with django_capture_on_commit_callbacks(execute=True):
        invoice_id = add_invoice(
            client, demo, customer=0, payment="cash", collections=[{"account": caja.pk, "amount": "3654.00"}]
        )
    root = etree.fromstring(bytes(CfdiDocument.objects.get(source_id=invoice_id).xml))
    receiver = root.find(f"{CFDI}Receptor")
    assert (receiver.get("Rfc"), receiver.get("Nombre"), receiver.get("DomicilioFiscalReceptor")) == (
        "XAXX010101000",
        "PUBLICO EN GENERAL",
        "42501",
    )
    assert (root.get("MetodoPago"), root.get("FormaPago")) == ("PUE", "01")
    assert root.find(f"{CFDI}InformacionGlobal") is not None


def test_failed_sealing_is_recorded_and_sellar_retries(demo, client, django_capture_on_commit_callbacks):
    csd = Csd.objects.get(company=demo.company)
    Csd.objects.filter(pk=csd.pk).update(active=False)
    invoice_id = add_invoice(client, demo)  # no active CSD: nothing is asked of the CFDI engine
    assert not CfdiDocument.objects.exists()

    refused = client.post(f"/api/sales/invoices/{invoice_id}/seal/")
    assert refused.status_code == 409 and refused.json()["code"] == "csd_faltante"
    assert "csd_faltante" in SalesDocument.objects.get(pk=invoice_id).cfdi_error

    Csd.objects.filter(pk=csd.pk).update(active=True)
    sealed = client.post(f"/api/sales/invoices/{invoice_id}/seal/")
    assert sealed.status_code == 200
    assert (sealed.json()["cfdi"], sealed.json()["cfdi_error"]) == ("TFD", "")
    again = client.post(f"/api/sales/invoices/{invoice_id}/seal/")
    assert again.status_code == 200
    assert CfdiDocument.objects.filter(source_id=invoice_id).count() == 1


def test_a_draft_cannot_be_sealed(demo, client):
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    draft = client.post(
        "/api/sales/invoices/",
        {"entity": entity.pk, "customer": 1, "date": str(date.today()), "payment": "credit",
         "lines": [{"product": "A", "quantity": "1"}]},
        format="json",
    ).json()  # fmt: skip
    response = client.post(f"/api/sales/invoices/{draft['id']}/seal/")
    assert response.status_code == 409 and response.json()["code"] == "factura_no_sellable"
    assert not CfdiDocument.objects.exists()
