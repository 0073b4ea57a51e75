"""The catalog API: roles, company scoping, SAT validation, the error shape."""

import pytest

from accounting.models import Account
from erp.models import Role
from sales.models import Customer
from tests.factories import AccountFactory, CustomerFactory, sales_entity, user_with_role

pytestmark = pytest.mark.django_db

NEW_ACCOUNT = {
    "code": "105-01",
    "name": "Clientes nacionales",
    "nature": "D",
    "sat_grouping_code": "105.01",
    "postable": True,
}


def test_accountant_creates_an_account(company, accountant, api_as):
    response = api_as(accountant).post(
        "/api/accounting/accounts/", {**NEW_ACCOUNT, "company": company.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    account = Account.objects.get(pk=response.json()["id"])
    assert (account.company, account.code, account.sat_grouping_code) == (company, "105-01", "105.01")


def test_cashier_cannot_change_the_chart_of_accounts(company, cashier, api_as):
    account = AccountFactory(company=company, name="Caja")
    client = api_as(cashier)

    created = client.post("/api/accounting/accounts/", {**NEW_ACCOUNT, "company": company.pk}, format="json")
    changed = client.patch(f"/api/accounting/accounts/{account.pk}/", {"name": "Otra"}, format="json")

    assert created.status_code == 403
    assert changed.status_code == 403
    assert created.json()["code"] == "permission_denied"
    account.refresh_from_db()
    assert account.name == "Caja"
    assert Account.objects.filter(company=company).count() == 1


def test_another_companys_customer_answers_404(company, other_company, api_as):
    foreign = CustomerFactory(entity=sales_entity(other_company), name="CLIENTE AJENO")
    mine = CustomerFactory(entity=sales_entity(company))
    client = api_as(user_with_role(company, Role.CASHIER))

    assert client.get(f"/api/sales/customers/{foreign.pk}/").status_code == 404
    assert (
        client.patch(f"/api/sales/customers/{foreign.pk}/", {"name": "X"}, format="json").status_code == 404
    )
    assert client.get(f"/api/sales/customers/{mine.pk}/").status_code == 200
    listed = {row["id"] for row in client.get("/api/sales/customers/").json()["results"]}
    assert foreign.pk not in listed and mine.pk in listed
    foreign.refresh_from_db()
    assert foreign.name == "CLIENTE AJENO"


def _customer_payload(company, entity, **overrides):
    return {
        "company": company.pk,
        "entity": entity.pk,
        "rfc": "URE180429TM6",
        "name": "UNIVERSIDAD ROBOTICA ESPAÑOLA",
        "postal_code": "86991",
        "regimen_fiscal": "601",
        "uso_cfdi": "G03",
        **overrides,
    }


def test_new_customer_gets_the_next_number(company, cashier, api_as):
    entity = sales_entity(company)
    response = api_as(cashier).post(
        "/api/sales/customers/", _customer_payload(company, entity), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["number"] == 1  # 0 is the counter customer the entity came with
    assert response.json()["person_type"] == "moral"


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"rfc": "URE18042ZTM6"}, "rfc", "no tiene una estructura válida"),
        ({"rfc": "URE181329TM6"}, "rfc", "no tiene una estructura válida"),
        (
            {"regimen_fiscal": "999"},
            "regimen_fiscal",
            "no es una clave válida del catálogo de régimen fiscal",
        ),
        ({"regimen_fiscal": "605"}, "regimen_fiscal", "no aplica a una persona moral"),
        ({"uso_cfdi": "Z99"}, "uso_cfdi", "no es una clave válida del catálogo de uso del CFDI"),
        ({"uso_cfdi": "D01"}, "uso_cfdi", "no aplica a una persona moral"),
        ({"postal_code": "00001"}, "postal_code", "no existe en el catálogo del SAT"),
    ],
)
def test_bad_fiscal_data_is_refused_and_nothing_saved(company, cashier, api_as, overrides, field, fragment):
    entity = sales_entity(company)
    before = Customer.objects.count()

    response = api_as(cashier).post(
        "/api/sales/customers/", _customer_payload(company, entity, **overrides), format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validacion"
    assert fragment in " ".join(body["details"][field])
    assert fragment in body["message"]
    assert Customer.objects.count() == before


def test_persona_fisica_with_deduction_use_is_accepted(company, cashier, api_as):
    entity = sales_entity(company)
    payload = _customer_payload(
        company, entity, rfc="MASO451221PM4", name="MARIA OLIVARES", regimen_fiscal="612", uso_cfdi="D01"
    )
    response = api_as(cashier).post("/api/sales/customers/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["person_type"] == "fisica"


def test_token_from_username_and_password(company, accountant, client):
    response = client.post("/api/auth/token/", {"username": accountant.username, "password": "secreto-123"})
    assert response.status_code == 200
    assert len(response.json()["token"]) == 40


def test_messages_come_in_english_when_asked(company, cashier, api_as):
    entity = sales_entity(company)
    payload = _customer_payload(company, entity, regimen_fiscal="605")
    response = api_as(cashier).post(
        "/api/sales/customers/", payload, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["details"]["regimen_fiscal"] == [
        "Tax regime 605 does not apply to a legal person (RFC URE180429TM6)."
    ]
    spanish = api_as(cashier).post("/api/sales/customers/", payload, format="json")
    assert "no aplica a una persona moral" in spanish.json()["message"]
