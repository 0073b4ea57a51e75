"""Issue 21: inputs the database or SAT cannot hold are refused with a Spanish 400 in the usual
shape, never a 500, and nothing is written. Each test here answered 5xx on the main of the day
the deep fuzz ran."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from accounting.models import JournalEntry
from cashbank.models import CashBankAccount, CashMovement
from cfdi.models import CfdiDocument
from demo.services import load_demo
from erp.models import Company
from inventory.models import Product
from sales.models import Customer, SalesDocument, SalesEntity
from sales.receivables.models import Receivable
from tests.factories_ledgers import opening_stock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verified_books")]
DAY = date(2026, 11, 20)


@pytest.fixture
def demo():
    demo = load_demo()
    opening_stock(
        demo.company,
        [(Product.objects.get(company=demo.company, code=c), 1000, "5") for c in ("A", "B")],
        "ALM",
    )
    return demo


@pytest.fixture
def client(demo, api_as):
    return api_as(get_user_model().objects.get(username="contador"))


def pachuca(demo):
    return SalesEntity.objects.get(company=demo.company, code="PACHUCA")


def body(demo, **extra):
    return {
        "entity": pachuca(demo).pk,
        "customer": 1,
        "date": str(DAY),
        "payment": "credit",
        "lines": [{"product": "A", "quantity": "2"}],
        **extra,
    }


def raw_post(client, url, text):
    return client.generic("POST", url, text, content_type="application/json")


def assert_refused(response, status=400):
    assert response.status_code == status, response.content
    payload = response.json()
    assert set(payload) == {"code", "message", "details"} and payload["message"], payload
    return payload


def nothing_posted(invoice_id):
    document = SalesDocument.objects.get(pk=invoice_id)
    origin = document.origin_reference
    return (
        document.status == "draft"
        and document.number is None
        and not CashMovement.objects.filter(origin=origin).exists()
        and not JournalEntry.objects.filter(origin=origin).exists()
        and not Receivable.objects.filter(origin=origin).exists()
    )


@pytest.mark.parametrize(
    "url, text",
    [
        ("/api/sales/invoices/", '{"entity": 1e999, "customer": 1, "date": "2026-11-20", "lines": []}'),
        ("/api/sales/customers/", '{"company": 1e999, "name": "X"}'),
        ("/api/sales/invoices/preview/", '{"entity": -1e999, "customer": 1, "date": "2026-11-20"}'),
        ("/api/sales/invoices/", '{"entity": NaN, "customer": Infinity, "date": "2026-11-20"}'),
    ],
)
def test_an_infinite_number_is_a_400(demo, client, url, text):
    before = SalesDocument.objects.count(), Customer.objects.count()
    payload = assert_refused(raw_post(client, url, text))
    assert "número" in payload["message"]
    assert (SalesDocument.objects.count(), Customer.objects.count()) == before


@pytest.mark.parametrize("action", ["create", "preview"])
def test_a_total_beyond_the_database_is_refused(demo, client, action):
    url = "/api/sales/invoices/" + ("preview/" if action == "preview" else "")
    lines = [{"product": "A", "quantity": "999999999999", "unit_price": "999999999999.999999"}]
    payload = assert_refused(client.post(url, body(demo, lines=lines), format="json"))
    assert payload["code"] == "importe_fuera_de_rango"
    assert not SalesDocument.objects.exists()


def test_a_total_of_ten_to_the_sixteen_is_refused(demo, client):
    lines = [{"product": "A", "quantity": "999999999999", "unit_price": "10000"}]
    payload = assert_refused(client.post("/api/sales/invoices/", body(demo, lines=lines), format="json"))
    assert payload["code"] == "importe_fuera_de_rango"


def test_a_national_total_beyond_the_database_is_refused(demo, client):
    extra = {"currency": "USD", "exchange_rate": "999999999999.999999"}
    lines = [{"product": "COLEG", "quantity": "1000", "unit_price": "1000"}]
    for url in ("/api/sales/invoices/", "/api/sales/invoices/preview/"):
        payload = assert_refused(client.post(url, body(demo, lines=lines, **extra), format="json"))
        assert payload["code"] == "importe_fuera_de_rango"
    assert not SalesDocument.objects.exists()


def test_a_foreign_collection_rounding_to_zero_pesos_is_refused(demo, client):
    lines = [{"product": "COLEG", "quantity": "1", "unit_price": "1"}]
    created = client.post(
        "/api/sales/invoices/",
        body(demo, payment="cash", currency="USD", exchange_rate="0.000001", lines=lines),
        format="json",
    )
    assert created.status_code == 201, created.json()
    invoice = created.json()
    caja = CashBankAccount.objects.get(company=demo.company, code="CAJA")
    response = client.post(
        f"/api/sales/invoices/{invoice['id']}/post/",
        {"collections": [{"account": caja.pk, "amount": invoice["total"]}]},
        format="json",
    )
    payload = assert_refused(response)
    assert payload["code"] == "importe_invalido" and "0.00" in payload["message"]
    assert nothing_posted(invoice["id"])


def test_a_check_number_longer_than_the_column_is_refused(demo, client):
    lines = [{"product": "COLEG", "quantity": "1", "unit_price": "100"}]
    invoice = client.post(
        "/api/sales/invoices/", body(demo, payment="cash", lines=lines), format="json"
    ).json()
    bank = CashBankAccount.objects.get(company=demo.company, code="BBVA-MXN")
    collection = {
        "account": bank.pk,
        "amount": invoice["total"],
        "method": "02",
        "check_number": "1" * 21,
        "counterparty_bank": "012",
        "counterparty_account": "1234",
    }
    response = client.post(
        f"/api/sales/invoices/{invoice['id']}/post/", {"collections": [collection]}, format="json"
    )
    payload = assert_refused(response)
    assert "check_number" in str(payload["details"]) and "20" in payload["message"]
    assert nothing_posted(invoice["id"])


def test_credit_days_are_bounded(demo, client):
    customer = Customer.objects.get(entity=pachuca(demo), number=1)
    response = client.patch(
        f"/api/sales/customers/{customer.pk}/", {"credit_days": 2147483647}, format="json"
    )
    assert_refused(response)
    customer.refresh_from_db()
    assert customer.credit_days == 30


def test_credit_days_already_stored_beyond_the_calendar_do_not_break_posting(demo, client):
    Customer.objects.filter(entity=pachuca(demo), number=1).update(credit_days=2147483647)
    invoice = client.post("/api/sales/invoices/", body(demo), format="json").json()
    response = client.post(f"/api/sales/invoices/{invoice['id']}/post/", {}, format="json")
    payload = assert_refused(response)
    assert payload["code"] == "dias_credito_invalidos"
    assert nothing_posted(invoice["id"])


@pytest.mark.parametrize("field", ["name"])
def test_customer_text_that_xml_cannot_carry_is_refused(demo, client, field):
    customer = Customer.objects.get(entity=pachuca(demo), number=1)
    before = getattr(customer, field)
    response = client.patch(f"/api/sales/customers/{customer.pk}/", {field: "ACME\x01 SA"}, format="json")
    payload = assert_refused(response)
    assert "caracteres" in payload["message"]
    customer.refresh_from_db()
    assert getattr(customer, field) == before


def test_line_description_that_xml_cannot_carry_is_refused(demo, client):
    lines = [{"product": "A", "quantity": "1", "description": "Tornillo\x01"}]
    for url in ("/api/sales/invoices/", "/api/sales/invoices/preview/"):
        assert_refused(client.post(url, body(demo, lines=lines), format="json"))
    assert not SalesDocument.objects.exists()


def test_company_legal_name_with_a_newline_is_refused(demo, api_as):
    from erp.services import save_catalog_row

    company = Company.objects.get(pk=demo.company.pk)
    company.legal_name = "ESCUELA KEMPER\nURGATE"
    with pytest.raises(Exception) as error:
        save_catalog_row(instance=company)
    assert "caracteres" in str(error.value)


def test_a_legal_name_with_a_newline_already_stored_still_sends(
    demo, client, django_capture_on_commit_callbacks, mailoutbox
):
    Company.objects.filter(pk=demo.company.pk).update(legal_name="ESCUELA KEMPER\nURGATE")
    with django_capture_on_commit_callbacks(execute=True):
        invoice = client.post("/api/sales/invoices/", body(demo), format="json").json()
        posted = client.post(f"/api/sales/invoices/{invoice['id']}/post/", {}, format="json")
    assert posted.status_code == 200, posted.content
    response = client.post(f"/api/sales/invoices/{invoice['id']}/send/", {"to": ["a@b.mx"]}, format="json")
    assert response.status_code == 200, response.content
    assert "\n" not in mailoutbox[-1].subject and "KEMPER URGATE" in mailoutbox[-1].subject


def test_an_external_cfdi_total_beyond_the_database_is_refused(demo, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_sales_external_cfdi_api import cfdi_xml

    for total in ("1e400", "NaN", "-5", "99999999999999999"):
        xml = SimpleUploadedFile("c.xml", cfdi_xml(total=total), content_type="application/xml")
        response = client.post(
            "/api/sales/external-cfdis/", {"entity": pachuca(demo).pk, "xml": xml}, format="multipart"
        )
        payload = assert_refused(response)
        assert payload["code"] == "cfdi_invalido", total


def test_finite_json_numbers_are_still_read(demo, client):
    """Refusing infinities leaves plain JSON numbers working: 3 × 0.1 is 0.30 in a line."""
    text = json.dumps(body(demo)).replace('"2"', "3").replace('"lines"', '"exchange_rate": 1.1, "lines"')
    text = text.replace('"quantity": 3', '"quantity": 3, "unit_price": 0.1')
    response = raw_post(client, "/api/sales/invoices/preview/", text)
    assert response.status_code == 200, response.content
    assert Decimal(response.json()["lines"][0]["importe"]) == Decimal("0.30")


# -- Work that follows a commit never turns the committed posting into an error -----------------


def test_text_sealing_cannot_carry_is_refused_at_posting_or_recorded_and_sellar_answers_409(demo, client):
    # Stored before the check, it is refused at posting (issue 11's pre-check): nothing numbered.
    invoice = client.post("/api/sales/invoices/", body(demo), format="json").json()
    SalesDocument.objects.filter(pk=invoice["id"]).update(customer_name="ACME\x01 SA")
    refused = assert_refused(
        client.post(f"/api/sales/invoices/{invoice['id']}/post/", {}, format="json"), 400
    )
    assert refused["code"] == "cfdi_no_generado"
    assert SalesDocument.objects.get(pk=invoice["id"]).number is None

    # Changed after posting (its seal still queued), «Sellar» records it and answers 409.
    SalesDocument.objects.filter(pk=invoice["id"]).update(customer_name="ACME SA")
    posted = client.post(f"/api/sales/invoices/{invoice['id']}/post/", {}, format="json")
    assert posted.status_code == 200, posted.content
    SalesDocument.objects.filter(pk=invoice["id"]).update(customer_name="ACME\x01 SA")
    retried = client.post(f"/api/sales/invoices/{invoice['id']}/seal/")
    payload = assert_refused(retried, 409)
    assert payload["code"] == "cfdi_no_generado" and "Sellar" in payload["message"]
    document = client.get(f"/api/sales/invoices/{invoice['id']}/").json()
    assert (document["number"], document["cfdi"]) == (1, "---")
    assert document["cfdi_error"].startswith("cfdi_no_generado")

    SalesDocument.objects.filter(pk=invoice["id"]).update(customer_name="ACME SA")
    sealed = client.post(f"/api/sales/invoices/{invoice['id']}/seal/")
    assert sealed.status_code == 200, sealed.content
    assert (sealed.json()["cfdi"], sealed.json()["cfdi_error"]) == ("TFD", "")


def test_a_broker_that_is_down_is_recorded_and_sellar_retries(
    demo, client, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError

    from sales.tasks import seal_invoice_task

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    invoice = client.post("/api/sales/invoices/", body(demo), format="json").json()
    with monkeypatch.context() as patch:
        patch.setattr(seal_invoice_task, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            posted = client.post(f"/api/sales/invoices/{invoice['id']}/post/", {}, format="json")
    assert posted.status_code == 200, posted.content
    document = client.get(f"/api/sales/invoices/{invoice['id']}/").json()
    assert document["status"] == "generated" and document["cfdi_error"].startswith("sellado_no_encolado")
    assert not CfdiDocument.objects.exists()

    sealed = client.post(f"/api/sales/invoices/{invoice['id']}/seal/")
    assert sealed.status_code == 200, sealed.content
    assert (sealed.json()["cfdi"], sealed.json()["cfdi_error"]) == ("TFD", "")
