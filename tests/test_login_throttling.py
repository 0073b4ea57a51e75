"""Logins are throttled by account and by client address (issue 10): the API token with DRF
throttles, the admin's and the cashiers' login forms with django-axes."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from erp.models import Role
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db
PASSWORD = "secreto-123"  # tests.factories.UserFactory


@pytest.fixture
def user(company):
    return user_with_role(company, Role.INTEGRATOR, username="integra")


def token(client, username, password, address="10.0.0.1"):
    return client.post("/api/auth/token/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_ten_wrong_passwords_lock_the_account_right_password_included(user, settings):
    client = APIClient()
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        response = token(client, "integra", f"mala-{attempt}", address=f"10.0.0.{attempt + 1}")
        assert response.status_code == 400, (attempt, response.content)
    refused = token(client, "integra", PASSWORD, address="10.9.9.9")  # another address, right password
    assert refused.status_code == 429, refused.content
    body = refused.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == "throttled"
    assert body["message"].startswith("Demasiados intentos fallidos de inicio de sesión")
    assert "Retry-After" in refused
    # Another account is not locked by it.
    other = user_with_role(user.memberships.get().company, Role.CASHIER, username="otra")
    assert token(client, other.username, PASSWORD, address="10.9.9.9").status_code == 200


def test_the_lock_lasts_until_the_window_passes(user, settings, monkeypatch):
    import time

    client = APIClient()
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        token(client, "integra", "mala", address=f"10.0.1.{attempt + 1}")
    assert token(client, "integra", PASSWORD).status_code == 429
    later = time.time() + settings.LOGIN_LOCKOUT_MINUTES * 60 + 1
    monkeypatch.setattr("erp.login.FailedLoginThrottle.timer", lambda self: later)
    assert token(client, "integra", PASSWORD).status_code == 200


def test_one_address_guessing_many_accounts_is_throttled(company, settings):
    client = APIClient()
    limit = settings.LOGIN_FAILURE_LIMIT * 5
    for attempt in range(limit):
        assert token(client, f"nadie-{attempt}", "mala", address="10.0.2.1").status_code == 400
    user_with_role(company, Role.CASHIER, username="cajera")
    assert token(client, "cajera", PASSWORD, address="10.0.2.1").status_code == 429
    assert token(client, "cajera", PASSWORD, address="10.0.2.2").status_code == 200


def test_right_passwords_are_never_counted(user):
    client = APIClient()
    for _ in range(15):
        assert token(client, "integra", PASSWORD).status_code == 200


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_the_login_forms_lock_out_after_ten_failures_and_an_admin_unlocks(user, settings, url):
    user.is_staff = True
    user.save()
    browser = Client(REMOTE_ADDR="10.1.0.1")
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = browser.post(url, {"username": "integra", "password": f"mala-{attempt}"})
        assert response.status_code == 200, attempt  # the form again, with its error
    assert browser.post(url, {"username": "integra", "password": "mala"}).status_code == 429  # the 10th
    locked = browser.post(url, {"username": "integra", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Demasiados intentos fallidos" in locked.content.decode()
    assert not browser.session.get("_auth_user_id")
    assert AccessAttempt.objects.filter(username="integra").exists()

    call_command("axes_reset_username", "integra")
    unlocked = browser.post(url, {"username": "integra", "password": PASSWORD})
    assert unlocked.status_code == 302
    assert browser.session.get("_auth_user_id") == str(user.pk)


def test_unlock_login_frees_an_account_locked_through_the_api(user, settings):
    client = APIClient()
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        token(client, "integra", "mala", address=f"10.0.3.{attempt + 1}")
    assert token(client, "integra", PASSWORD).status_code == 429
    call_command("unlock_login", "integra")
    assert token(client, "integra", PASSWORD).status_code == 200
