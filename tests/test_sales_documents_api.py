"""Sales documents through the REST API: create, idempotency, post, generate, lists, errors."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from erp.models import Role
from sales.models import SalesDocument
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    SalespersonFactory,
    WarehouseFactory,
    sales_entity,
    set_all_variables,
    user_with_role,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verified_books")]


@pytest.fixture
def entity(company):
    ProductFactory(company=company, code="A", unit="PZA", list_price=Decimal("11.50"))
    ProductFactory(company=company, code="B", unit="KG", sat_unit_key="KGM", list_price=Decimal("10.00"))
    set_all_variables(company)
    return sales_entity(company, warehouse=WarehouseFactory(company=company, allow_negative_stock=True))


@pytest.fixture
def client(cashier, api_as):
    return api_as(cashier)


def payload(entity, customer=1, **overrides):
    return {
        "entity": entity.pk,
        "customer": customer,
        "date": str(timezone.localdate()),
        "payment": "credit",
        "lines": [{"product": "A", "quantity": "100"}, {"product": "B", "quantity": "200"}],
        **overrides,
    }


def test_cashier_creates_the_seeds_invoice(entity, client):
    CustomerFactory(entity=entity, number=1)
    response = client.post("/api/sales/invoices/", payload(entity), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["subtotal"], body["iva"], body["total"]) == ("3150.00", "504.00", "3654.00")
    assert (body["status"], body["number"], body["customer_rfc"]) == ("draft", None, "URE180429TM6")
    assert [line["iva"] for line in body["lines"]] == ["184.00", "320.00"]


def test_idempotency_key_creates_one_invoice_and_answers_the_same(entity, client):
    CustomerFactory(entity=entity, number=1)
    first = client.post(
        "/api/sales/invoices/", payload(entity), format="json", HTTP_IDEMPOTENCY_KEY="pos-7-0001"
    )
    second = client.post(
        "/api/sales/invoices/", payload(entity), format="json", HTTP_IDEMPOTENCY_KEY="pos-7-0001"
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert SalesDocument.objects.count() == 1
    other = client.post(
        "/api/sales/invoices/",
        payload(entity, reference="otra"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="pos-7-0001",
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotencia_conflicto"
    assert SalesDocument.objects.count() == 1


def test_posting_numbers_the_invoice(entity, client):
    CustomerFactory(entity=entity, number=1)
    created = client.post("/api/sales/invoices/", payload(entity), format="json").json()
    posted = client.post(f"/api/sales/invoices/{created['id']}/post/")
    assert posted.status_code == 200
    assert (posted.json()["number"], posted.json()["status"], posted.json()["status_display"]) == (
        1,
        "generated",
        "Generada",
    )
    again = client.post(f"/api/sales/invoices/{created['id']}/post/")
    assert again.status_code == 409 and "solo se contabiliza un borrador" in again.json()["message"]


def test_credit_for_the_counter_customer_is_refused(entity, client):
    response = client.post("/api/sales/invoices/", payload(entity, customer=0), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "credito_cliente_generico",
        "message": "Las facturas con pago a crédito no se pueden generar si el cliente es el genérico "
        "(cliente con el número cero).",
        "details": {"field": "customer"},  # the entry screen shows it beside the customer
    }
    assert not SalesDocument.objects.exists()


class TestSalespersonRulesThroughTheApi:
    def test_default_is_the_entitys_for_a_counter_sale(self, company, client):
        ProductFactory(company=company, code="A")
        ana = SalespersonFactory(company=company, number=1)
        entity = sales_entity(company, salesperson=ana)
        lines = [{"product": "A", "quantity": "1"}]
        body = client.post(
            "/api/sales/invoices/", payload(entity, customer=0, payment="cash", lines=lines), format="json"
        ).json()
        assert body["salesperson"] == ana.pk

    def test_counter_sale_takes_any_salesperson(self, company, entity, client):
        SalespersonFactory(company=company, number=1)
        bruno = SalespersonFactory(company=company, number=2)
        body = client.post(
            "/api/sales/invoices/", payload(entity, customer=0, payment="cash", salesperson=2), format="json"
        ).json()
        assert body["salesperson"] == bruno.pk

    def test_customer_sale_needs_the_customers_salesperson(self, company, entity, client):
        ana, _ = SalespersonFactory(company=company, number=1), SalespersonFactory(company=company, number=2)
        CustomerFactory(entity=entity, number=1, salesperson=ana)
        refused = client.post("/api/sales/invoices/", payload(entity, salesperson=2), format="json")
        assert refused.status_code == 400 and refused.json()["code"] == "vendedor_distinto_al_del_cliente"
        accepted = client.post("/api/sales/invoices/", payload(entity), format="json")
        assert accepted.json()["salesperson"] == ana.pk
        assert SalesDocument.objects.count() == 1

    def test_customer_with_salesperson_zero_admits_none(self, company, entity, client):
        SalespersonFactory(company=company, number=1)
        CustomerFactory(entity=entity, number=1)
        refused = client.post("/api/sales/invoices/", payload(entity, salesperson=1), format="json")
        assert refused.status_code == 400 and refused.json()["code"] == "vendedor_no_permitido"
        assert (
            client.post("/api/sales/invoices/", payload(entity, salesperson=0), format="json").status_code
            == 201
        )


def test_invoice_generated_from_a_quote(entity, client):
    CustomerFactory(entity=entity, number=1)
    quote = client.post("/api/sales/quotes/", payload(entity), format="json").json()
    assert (quote["kind"], quote["number"], quote["status"]) == ("quote", 1, "generated")
    invoice = client.post(f"/api/sales/quotes/{quote['id']}/generate-invoice/")
    assert invoice.status_code == 201
    assert invoice.json()["source"] == quote["id"] and invoice.json()["total"] == quote["total"]
    assert invoice.json()["origin_ref"] == f"VCOT|{quote['id']}|{entity.code}||"
    twice = client.post(f"/api/sales/quotes/{quote['id']}/generate-invoice/")
    assert twice.status_code == 409 and twice.json()["code"] == "documento_ya_facturado"


def test_lists_filter_by_tab_and_period(entity, client):
    CustomerFactory(entity=entity, number=1)
    today = timezone.localdate()
    ids = {}
    for label, days_ago in (("today", 0), ("three_days", 3), ("old", 40)):
        ids[label] = client.post(
            "/api/sales/invoices/", payload(entity, date=str(today - timedelta(days=days_ago))), format="json"
        ).json()["id"]
    client.post(f"/api/sales/invoices/{ids['today']}/post/")

    def listed(query):
        return {row["id"] for row in client.get(f"/api/sales/invoices/?{query}").json()["results"]}

    assert listed("period=hoy") == {ids["today"]}
    assert listed("period=semana") == {ids["today"], ids["three_days"]}
    old_month = (today - timedelta(days=40)).strftime("%Y-%m")
    assert ids["old"] in listed(f"period=mes&month={old_month}")
    assert listed("tab=generadas") == {ids["today"]}
    assert listed("tab=borradores") == {ids["three_days"], ids["old"]}
    bad = client.get("/api/sales/invoices/?period=ayer")
    assert bad.status_code == 400 and bad.json()["code"] == "periodo_invalido"


def test_another_companys_invoice_answers_404(company, other_company, entity, client, api_as):
    ProductFactory(company=other_company, code="A")
    foreign_entity = sales_entity(other_company)
    outsider = api_as(user_with_role(other_company, Role.CASHIER))
    foreign = outsider.post(
        "/api/sales/invoices/",
        payload(foreign_entity, customer=0, payment="cash", lines=[{"product": "A", "quantity": 1}]),
        format="json",
    ).json()
    assert client.get(f"/api/sales/invoices/{foreign['id']}/").status_code == 404
    assert client.post(f"/api/sales/invoices/{foreign['id']}/post/").status_code == 404
    sneaky = client.post(
        "/api/sales/invoices/", payload(foreign_entity, customer=0, payment="cash"), format="json"
    )
    assert sneaky.status_code == 400 and "entity" in sneaky.json()["details"]


def test_ops_reads_but_cannot_create(entity, ops, api_as):
    client = api_as(ops)
    assert client.get("/api/sales/invoices/").status_code == 200
    assert (
        client.post(
            "/api/sales/invoices/", payload(entity, customer=0, payment="cash"), format="json"
        ).status_code
        == 403
    )


def test_accountant_posts_drafts_from_the_admin(entity, client, accountant):
    from django.test import Client

    CustomerFactory(entity=entity, number=1)
    draft = client.post("/api/sales/invoices/", payload(entity), format="json").json()
    browser = Client()
    browser.force_login(accountant)
    # Drafts are apart from «Todas», under «Borradores».
    listing = browser.get("/admin/sales/salesdocument/?kind__exact=invoice")
    assert listing.status_code == 200 and "UNIVERSIDAD ROBOTICA" not in listing.content.decode()
    listing = browser.get("/admin/sales/salesdocument/?kind__exact=invoice&tab=borradores")
    assert listing.status_code == 200 and "UNIVERSIDAD ROBOTICA" in listing.content.decode()
    response = browser.post(
        "/admin/sales/salesdocument/?kind__exact=invoice&tab=borradores",
        {"action": "post_selected", "_selected_action": [draft["id"]]},
        follow=True,
    )
    assert "1 factura(s) contabilizada(s)." in response.content.decode()
    assert SalesDocument.objects.get(pk=draft["id"]).number == 1


def test_an_idempotency_key_of_a_quote_reused_on_an_invoice_answers_409(entity, client):
    CustomerFactory(entity=entity, number=1)
    quote = client.post("/api/sales/quotes/", payload(entity), format="json", HTTP_IDEMPOTENCY_KEY="k-otra")
    assert quote.status_code == 201, quote.json()
    reused = client.post(
        "/api/sales/invoices/", payload(entity), format="json", HTTP_IDEMPOTENCY_KEY="k-otra"
    )
    assert reused.status_code == 409, reused.content
    assert reused.json()["code"] == "idempotencia_conflicto"
    assert set(reused.json()) == {"code", "message", "details"}
    assert not SalesDocument.objects.filter(kind="invoice").exists()


def test_an_idempotency_key_longer_than_80_characters_answers_400(entity, client):
    CustomerFactory(entity=entity, number=1)
    response = client.post(
        "/api/sales/invoices/", payload(entity), format="json", HTTP_IDEMPOTENCY_KEY="k" * 81
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "idempotencia_clave_larga"
    assert "80" in response.json()["message"]
    assert not SalesDocument.objects.exists()
    ok = client.post("/api/sales/invoices/", payload(entity), format="json", HTTP_IDEMPOTENCY_KEY="k" * 80)
    assert ok.status_code == 201
