import os
import tempfile

import pytest
from django.db import connection
from rest_framework.test import APIClient

from erp.models import Role
from tests.factories import CompanyFactory, user_with_role


@pytest.fixture
def company(db):
    return CompanyFactory()


@pytest.fixture
def other_company(db):
    return CompanyFactory(rfc="AAA010101AAA", legal_name="EMPRESA AJENA SA DE CV", postal_code="06000")


@pytest.fixture
def api_as():
    """api_as(user) -> an APIClient authenticated with the user's token."""

    def make(user):
        from rest_framework.authtoken.models import Token

        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def accountant(company):
    return user_with_role(company, Role.ACCOUNTANT)


@pytest.fixture
def cashier(company):
    return user_with_role(company, Role.CASHIER)


@pytest.fixture
def integrator(company):
    return user_with_role(company, Role.INTEGRATOR)


@pytest.fixture
def ops(company):
    return user_with_role(company, Role.OPS)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("Necesita PostgreSQL (bloqueos de fila reales); corre en CI con DATABASE_URL.")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing is deliberately slow; tests only need it to be a hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """SQLite tests run on a file (in memory, /dev/shm, when there is one) rather than an
    in-process memory database, so a real Celery worker started by a test (another process)
    sees the same database. Postgres is left as configured."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        folder = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
        database.setdefault("TEST", {})["NAME"] = os.path.join(folder, f"erp-test-{os.getpid()}.sqlite3")


@pytest.fixture(autouse=True)
def _fresh_login_counters():
    """Wrong-password counters (DRF throttles, in the cache) start empty in every test, so tests
    that log in many times are never throttled by an earlier one. django-axes keeps its attempts
    in the database, which every test gets fresh."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # PDFs and logos that tests store go to a throwaway folder, not var/media.
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _every_stamped_cfdi_verifies(request):
    """Every CFDI a test stamps is checked after the test, independently of the code that made
    it: XSD, sello over SAT's cadena original (tests/cfdi_verify.py) and the project's SAT rule
    checker (its 72-hour window aside: the test's clock may have moved)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(
        marker and marker.kwargs.get("transaction")
    )
    if not (marker or {"db", "transactional_db"} & set(request.fixturenames)):
        yield
        return
    # Set the database up before this fixture, so that it is still there when this one ends.
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    from cfdi import checker
    from cfdi.models import CfdiDocument
    from tests.cfdi_verify import verify_cfdi

    stamped = CfdiDocument.objects.filter(status=CfdiDocument.Status.STAMPED).values_list("pk", "xml")
    for pk, xml in stamped:
        root = verify_cfdi(bytes(xml))
        findings = checker.check(root)
        assert not findings, f"CFDI {pk}: {findings}"


@pytest.fixture
def verified_books():
    """After the test's workload, ``verify_books`` must find every invariant holding (issue 21).
    Modules with mixed workloads use it: ``pytestmark = [..., pytest.mark.usefixtures("verified_books")]``."""
    yield
    from sales.integrity import verify_books

    # A test that does not run its on-commit callbacks never asks for the CFDI: its invoices count as
    # still queued (posted less than the default pending minutes ago).
    broken = {
        report.company.rfc: {code: lines for code, lines in report.breaks.items() if lines}
        for report in verify_books()
        if not report.ok
    }
    assert not broken, broken
