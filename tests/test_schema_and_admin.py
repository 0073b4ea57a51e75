import pytest
import yaml
from django.test import Client
from openapi_spec_validator import validate

from accounting.models import Account
from demo.services import DEMO_PASSWORD, load_demo
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_schema_validates_as_openapi_3(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    spec = yaml.safe_load(response.content)
    assert spec["openapi"].startswith("3.")
    validate(spec)
    assert "/api/sales/customers/{id}/" in spec["paths"]
    assert "/api/auth/token/" in spec["paths"]


def test_docs_page_serves_offline_assets(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b"swagger-ui" in page.content
    assert b"/static/drf_spectacular_sidecar/" in page.content


def test_admin_login_page(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "Administración" in response.content.decode()


def test_accountant_sees_only_their_companys_chart_in_the_admin(other_company):
    load_demo()
    AccountFactory(company=other_company, code="999-AJENA", name="Cuenta ajena")
    browser = Client()
    assert browser.login(username="contador", password=DEMO_PASSWORD)

    page = browser.get("/admin/accounting/account/?q=")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Caja general" in html
    assert "Cuenta ajena" not in html
    assert browser.get("/admin/sales/customer/").status_code == 200
    assert browser.get("/admin/inventory/product/").status_code == 200


def test_accountant_adds_an_account_through_the_admin():
    demo = load_demo()
    browser = Client()
    browser.login(username="contador", password=DEMO_PASSWORD)
    parent = Account.objects.get(company=demo.company, code="102")
    response = browser.post(
        "/admin/accounting/account/add/",
        {
            "company": demo.company.pk,
            "code": "102-03",
            "name": "Banco Santander",
            "nature": "D",
            "sat_grouping_code": "102.01",
            "parent": parent.pk,
            "postable": "on",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Account.objects.get(company=demo.company, code="102-03").parent == parent


def test_cashier_does_not_enter_the_admin():
    load_demo()
    browser = Client()
    assert browser.login(username="cajero", password=DEMO_PASSWORD)
    assert browser.get("/admin/").status_code == 302
