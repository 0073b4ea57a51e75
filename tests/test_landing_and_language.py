"""Where each role lands after logging in, and the screens' language: Spanish unless the user
chose English, whatever the browser asks; the API keeps following Accept-Language."""

import pytest
from django.test import Client

from erp.models import Role
from erp.services import grant_membership
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.CASHIER, "/caja/facturas/"),
        (Role.ACCOUNTANT, "/admin/"),
        (Role.OPS, "/sync/eventos/"),
        (Role.INTEGRATOR, "/api/docs/"),
    ],
)
def test_each_role_lands_where_its_day_starts(company, role, landing):
    assert logged_in(user_with_role(company, role)).get("/inicio/").url == landing


def test_an_accountant_who_also_sells_starts_at_the_counter(company):
    user = user_with_role(company, Role.ACCOUNTANT)
    grant_membership(user=user, company=company, role=Role.CASHIER)
    assert logged_in(user).get("/inicio/").url == "/caja/facturas/"


def test_login_form_takes_the_accountant_to_the_admin(company):
    user = user_with_role(company, Role.ACCOUNTANT, username="conta")
    user.set_password("x")
    user.save()
    response = Client().post("/accounts/login/", {"username": "conta", "password": "x"}, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"
    assert response.status_code == 200


def test_screens_stay_spanish_for_an_english_browser(company, accountant):
    page = logged_in(accountant).get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page["Content-Language"] == "es-mx"
    assert "Cerrar sesión" in page.content.decode()


def test_english_is_the_users_choice(company, accountant):
    client = logged_in(accountant)
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="es-MX")
    assert page["Content-Language"] == "en"
    assert "Log out" in page.content.decode()


def test_the_api_still_follows_accept_language(company, cashier):
    client = logged_in(cashier)
    spanish = client.get("/api/no-such-route/")
    english = client.get("/api/sales/invoices/?entity=abc", HTTP_ACCEPT_LANGUAGE="en")
    assert spanish.json()["code"] == "no_encontrado"
    assert english["Content-Language"] == "en"
