"""Every route of the API schema, with every role: the outcome the README's role table promises.

ROUTES below is the hand-written table: one line per path and method, and the roles allowed
(A contador, C cajero, I integrador, O operaciones; "-" nobody but a superuser). "Allowed" means
the permission check lets the request through (the answer is then 400, 404… for the empty
body and the missing row the walk sends); "refused" means 403. A route or method in the schema
that is not in the table fails the test, so a new endpoint cannot ship unguarded: add its line.
"""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.routers import DefaultRouter

from erp.models import Role
from tests.factories import user_with_role

ROLES = {"A": Role.ACCOUNTANT, "C": Role.CASHIER, "I": Role.INTEGRATOR, "O": Role.OPS}

# method  path                                                    roles allowed
ROUTES = """
POST   /api/auth/token/                                          ACIO
GET    /api/companies/                                           ACIO
GET    /api/companies/{id}/                                      ACIO
PUT    /api/companies/{id}/                                      A
PATCH  /api/companies/{id}/                                      A
GET    /api/currencies/                                          ACIO
GET    /api/currencies/{id}/                                     ACIO
GET    /api/exchange-rates/                                      ACI
POST   /api/exchange-rates/                                      AI
GET    /api/exchange-rates/{id}/                                 ACI
PUT    /api/exchange-rates/{id}/                                 AI
PATCH  /api/exchange-rates/{id}/                                 AI

GET    /api/accounting/accounts/                                 AI
POST   /api/accounting/accounts/                                 A
GET    /api/accounting/accounts/{id}/                            AI
PUT    /api/accounting/accounts/{id}/                            A
PATCH  /api/accounting/accounts/{id}/                            A
GET    /api/accounting/variables/                                AI
POST   /api/accounting/variables/                                A
GET    /api/accounting/variables/{id}/                           AI
PUT    /api/accounting/variables/{id}/                           A
PATCH  /api/accounting/variables/{id}/                           A
GET    /api/accounting/entries/                                  AI
POST   /api/accounting/entries/                                  A
GET    /api/accounting/entries/{id}/                             AI
POST   /api/accounting/entries/{id}/cancel/                      A
GET    /api/accounting/entries/sat-catalog/                      AI
GET    /api/accounting/entries/sat-entries/                      AI
GET    /api/accounting/entries/sat-trial-balance/                AI
GET    /api/accounting/entries/trial-balance/                    AI

GET    /api/cashbank/accounts/                                   ACI
POST   /api/cashbank/accounts/                                   A
GET    /api/cashbank/accounts/{id}/                              ACI
PUT    /api/cashbank/accounts/{id}/                              A
PATCH  /api/cashbank/accounts/{id}/                              A
GET    /api/cashbank/movements/                                  ACI
POST   /api/cashbank/movements/                                  ACI
GET    /api/cashbank/movements/{id}/                             ACI
POST   /api/cashbank/movements/{id}/cancel/                      A
GET    /api/cashbank/movements/balances/                         ACI

GET    /api/inventory/product-lines/                             ACIO
POST   /api/inventory/product-lines/                             AI
GET    /api/inventory/product-lines/{id}/                        ACIO
PUT    /api/inventory/product-lines/{id}/                        AI
PATCH  /api/inventory/product-lines/{id}/                        AI
GET    /api/inventory/products/                                  ACIO
POST   /api/inventory/products/                                  AI
GET    /api/inventory/products/{id}/                             ACIO
PUT    /api/inventory/products/{id}/                             AI
PATCH  /api/inventory/products/{id}/                             AI
GET    /api/inventory/warehouses/                                ACIO
POST   /api/inventory/warehouses/                                A
GET    /api/inventory/warehouses/{id}/                           ACIO
PUT    /api/inventory/warehouses/{id}/                           A
PATCH  /api/inventory/warehouses/{id}/                           A
GET    /api/inventory/stock-movements/                           ACIO
POST   /api/inventory/stock-movements/                           AI
GET    /api/inventory/stock-movements/{id}/                      ACIO
POST   /api/inventory/stock-movements/{id}/audit/                A
POST   /api/inventory/stock-movements/{id}/revert/               A
POST   /api/inventory/stock-movements/{id}/cancel/               A
GET    /api/inventory/stock-levels/                              ACIO
GET    /api/inventory/stock-levels/{id}/                         ACIO

GET    /api/sales/salespeople/                                   ACI
POST   /api/sales/salespeople/                                   A
GET    /api/sales/salespeople/{id}/                              ACI
PUT    /api/sales/salespeople/{id}/                              A
PATCH  /api/sales/salespeople/{id}/                              A
GET    /api/sales/entities/                                      ACIO
POST   /api/sales/entities/                                      A
GET    /api/sales/entities/{id}/                                 ACIO
PUT    /api/sales/entities/{id}/                                 A
PATCH  /api/sales/entities/{id}/                                 A
GET    /api/sales/customers/                                     ACIO
POST   /api/sales/customers/                                     ACI
GET    /api/sales/customers/{id}/                                ACIO
PUT    /api/sales/customers/{id}/                                ACI
PATCH  /api/sales/customers/{id}/                                ACI
"""

# Quotes, orders and remissions share one table; invoices add posting, stamping and delivery.
for _kind in ("quotes", "orders", "remissions"):
    ROUTES += f"""
GET    /api/sales/{_kind}/                                       ACIO
POST   /api/sales/{_kind}/                                       ACI
GET    /api/sales/{_kind}/{{id}}/                                ACIO
POST   /api/sales/{_kind}/preview/                               ACI
POST   /api/sales/{_kind}/{{id}}/cancel/                         ACI
GET    /api/sales/{_kind}/{{id}}/track/                          ACIO
POST   /api/sales/{_kind}/{{id}}/generate-invoice/               ACI
"""

ROUTES += """
GET    /api/sales/invoices/                                      ACIO
POST   /api/sales/invoices/                                      ACI
GET    /api/sales/invoices/{id}/                                 ACIO
POST   /api/sales/invoices/preview/                              ACI
POST   /api/sales/invoices/{id}/post/                            ACI
POST   /api/sales/invoices/{id}/cancel/                          A
GET    /api/sales/invoices/{id}/track/                           ACIO
POST   /api/sales/invoices/{id}/link-cfdi/                       ACI
POST   /api/sales/invoices/{id}/seal/                            ACI
GET    /api/sales/invoices/{id}/xml/                             ACIO
GET    /api/sales/invoices/{id}/pdf/                             ACIO
POST   /api/sales/invoices/{id}/send/                            ACI
PUT    /api/sales/invoices/{id}/                                 ACI
POST   /api/sales/invoices/{id}/discard/                         ACI

GET    /api/sales/credit-notes/                                  ACIO
POST   /api/sales/credit-notes/                                  ACI
GET    /api/sales/credit-notes/{id}/                             ACIO
POST   /api/sales/credit-notes/preview/                          ACI
POST   /api/sales/credit-notes/{id}/post/                        ACI
POST   /api/sales/credit-notes/{id}/cancel/                      A
GET    /api/sales/credit-notes/{id}/track/                       ACIO
POST   /api/sales/credit-notes/{id}/seal/                        ACI
GET    /api/sales/credit-notes/{id}/xml/                         ACIO
GET    /api/sales/credit-notes/{id}/pdf/                         ACIO
POST   /api/sales/credit-notes/{id}/send/                        ACI
POST   /api/sales/credit-notes/{id}/link-cfdi/                   ACI

GET    /api/sales/payments/                                      ACI
POST   /api/sales/payments/                                      AC
GET    /api/sales/payments/{id}/                                 ACI
POST   /api/sales/payments/{id}/preview/                         AC
POST   /api/sales/payments/{id}/post/                            AC
POST   /api/sales/payments/{id}/cancel/                          A
POST   /api/sales/payments/{id}/complement/                      AC
POST   /api/sales/payments/{id}/substitute/                      AC
GET    /api/sales/payments/{id}/xml/                             ACI
GET    /api/sales/payments/{id}/pdf/                             ACI
POST   /api/sales/payments/{id}/send/                            AC
GET    /api/sales/payments/missing/                              ACI

GET    /api/sales/advances/                                      ACI
GET    /api/sales/advances/{id}/                                 ACI
POST   /api/sales/advances/{id}/apply/                           AC

GET    /api/sales/global-invoices/                               ACI
POST   /api/sales/global-invoices/                               AC
GET    /api/sales/global-invoices/{id}/                          ACI
POST   /api/sales/global-invoices/{id}/issue/                    AC
POST   /api/sales/global-invoices/{id}/cancel/                   A
GET    /api/sales/global-invoices/{id}/xml/                      ACI
GET    /api/sales/global-invoices/{id}/pdf/                      ACI
POST   /api/sales/global-invoices/{id}/send/                     AC
POST   /api/sales/global-invoices/invoice-ticket/                ACI

GET    /api/sales/receivables/                                   ACI
POST   /api/sales/receivables/                                   AI
GET    /api/sales/receivables/{id}/                              ACI
POST   /api/sales/receivables/{id}/cancel/                       A
POST   /api/sales/receivables/{id}/records/                      ACI
GET    /api/sales/receivables/debt/                              ACI
GET    /api/sales/receivables/statement/                         ACI
GET    /api/sales/receivable-records/                            ACI
GET    /api/sales/receivable-records/{id}/                       ACI
POST   /api/sales/receivable-records/{id}/cancel/                A

GET    /api/sales/external-cfdis/                                ACI
POST   /api/sales/external-cfdis/                                ACI
GET    /api/sales/external-cfdis/{id}/                           ACI
GET    /api/sales/external-cfdis/{id}/xml/                       ACI
GET    /api/sales/external-cfdis/{id}/pdf/                       ACI
POST   /api/sales/external-cfdis/{id}/pdf/                       ACI
POST   /api/sales/external-cfdis/{id}/build-invoice/             ACI
GET    /api/sales/xml-invoices/                                  ACIO
GET    /api/sales/xml-invoices/{id}/                             ACIO
POST   /api/sales/xml-invoices/{id}/concordance/                 ACI
GET    /api/sales/xml-invoices/{id}/preview/                     ACIO
POST   /api/sales/xml-invoices/{id}/accept/                      ACI
GET    /api/sales/product-associations/                          ACIO
POST   /api/sales/product-associations/                          ACI
GET    /api/sales/product-associations/{id}/                     ACIO
PUT    /api/sales/product-associations/{id}/                     ACI
PATCH  /api/sales/product-associations/{id}/                     ACI

GET    /api/cfdi/csds/                                           AI
POST   /api/cfdi/csds/                                           A
GET    /api/cfdi/csds/{id}/                                      AI
GET    /api/cfdi/documents/                                      ACIO
GET    /api/cfdi/documents/{id}/                                 ACIO
GET    /api/cfdi/documents/{id}/xml/                             ACIO
GET    /api/cfdi/documents/{id}/pdf/                             ACIO
POST   /api/cfdi/documents/{id}/send/                            ACI
POST   /api/cfdi/documents/{id}/cancel/                          A
POST   /api/cfdi/documents/{id}/cancellation-status/             ACI
GET    /api/cfdi/pac-accounts/                                   AI
POST   /api/cfdi/pac-accounts/                                   A
GET    /api/cfdi/pac-accounts/{id}/                              AI
PUT    /api/cfdi/pac-accounts/{id}/                              A
PATCH  /api/cfdi/pac-accounts/{id}/                              A
DELETE /api/cfdi/pac-accounts/{id}/                              A
POST   /api/cfdi/check/                                          ACIO
GET    /api/cfdi/sandbox-pac/certificate/                        ACIO

GET    /api/sync/connections/                                    AIO
POST   /api/sync/connections/                                    AI
GET    /api/sync/connections/{id}/                               AIO
PUT    /api/sync/connections/{id}/                               AI
PATCH  /api/sync/connections/{id}/                               AI
DELETE /api/sync/connections/{id}/                               AI
POST   /api/sync/connections/{id}/run/                           AIO
POST   /api/sync/connections/{id}/enabled/                       AIO
GET    /api/sync/runs/                                           AIO
GET    /api/sync/runs/{id}/                                      AIO
GET    /api/sync/events/                                         AIO
GET    /api/sync/events/{id}/                                    AIO
POST   /api/sync/connections/{id}/import/                        AI
GET    /api/sync/imports/                                        AIO
GET    /api/sync/imports/{id}/                                   AIO
POST   /api/sync/imports/{id}/apply/                             AI
"""


def _table() -> dict[tuple[str, str], str]:
    table = {}
    for line in ROUTES.strip().splitlines():
        if not line.strip():
            continue
        method, path, roles = line.split()
        assert (method, path) not in table, f"Línea repetida en ROUTES: {method} {path}"
        table[(method, path)] = "" if roles == "-" else roles
    return table


def _schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_schema_route_is_in_the_role_table():
    table, operations = _table(), _schema_operations()
    missing = sorted(f"{m} {p}" for m, p in operations - set(table))
    stale = sorted(f"{m} {p}" for m, p in set(table) - operations)
    assert not missing, "Rutas sin fila en tests/test_role_walk.py ROUTES:\n" + "\n".join(missing)
    assert not stale, "Filas de ROUTES que ya no están en el esquema:\n" + "\n".join(stale)


def test_every_write_action_declares_its_permission():
    """Fail closed: a write action no viewset declared answers 403 to everyone; name it here."""
    from erp.api_base import declared_permission
    from erp.urls import router

    undeclared = []
    for prefix, viewset, _basename in router.registry:
        for route in DefaultRouter().get_routes(viewset):
            for method, action in route.mapping.items():
                if not hasattr(viewset, action):
                    continue
                if declared_permission(viewset, action, method) is None:
                    undeclared.append(f"{viewset.__name__}.{action} ({method.upper()} /api/{prefix}/)")
    assert not undeclared, (
        "Acciones de escritura sin permiso declarado (action_permissions del viewset):\n"
        + "\n".join(undeclared)
    )


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "999999", path)


@pytest.mark.django_db
def test_every_route_answers_each_role_as_the_table_says(company, api_as):
    clients = {
        letter: api_as(user_with_role(company, role, username=f"walk-{letter}"))
        for letter, role in ROLES.items()
    }
    wrong = []
    for (method, path), allowed in sorted(_table().items()):
        for letter, client in clients.items():
            response = client.generic(method, _concrete(path), data="{}", content_type="application/json")
            refused = response.status_code in (401, 403)
            if refused == (letter in allowed):
                expected = "permitido" if letter in allowed else "403"
                wrong.append(
                    f"{method} {path} {ROLES[letter].label}: {response.status_code}, esperado {expected}"
                )
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_an_integrator_cannot_delete_a_pac_account_and_an_accountant_can(company, api_as):
    from cfdi.models import PacAccount

    account = PacAccount.objects.create(company=company, provider="finkok", username="demo")
    integrator = api_as(user_with_role(company, Role.INTEGRATOR))
    response = integrator.delete(f"/api/cfdi/pac-accounts/{account.pk}/")
    assert response.status_code == 403
    assert PacAccount.objects.filter(pk=account.pk).exists()
    accountant = api_as(user_with_role(company, Role.ACCOUNTANT))
    assert accountant.delete(f"/api/cfdi/pac-accounts/{account.pk}/").status_code == 204
    assert not PacAccount.objects.filter(pk=account.pk).exists()


def test_an_undeclared_write_action_needs_a_permission_no_role_has():
    from erp.api_base import declared_permission

    class Undeclared:
        action_permissions = {"pdf:post": "add", "cancel": "sales.cancel_salesdocument"}

    assert declared_permission(Undeclared, "archive", "POST") is None  # fail closed: 403
    assert declared_permission(Undeclared, "destroy", "DELETE") is None
    assert declared_permission(Undeclared, "archive", "GET") == "view"
    assert declared_permission(Undeclared, "pdf", "POST") == "add"
    assert declared_permission(Undeclared, "pdf", "GET") == "view"
    assert declared_permission(Undeclared, "cancel", "POST") == "sales.cancel_salesdocument"
    assert declared_permission(Undeclared, "partial_update", "PATCH") == "change"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/sales/payments/missing/", "/api/sales/invoices/999999/track/", "/api/sales/credit-notes/1/xml/"],
)
def test_post_to_a_get_only_action_answers_405_not_the_post_action(company, api_as, path):
    """Invoices, credit notes and payments have an action called "post": DRF used to run it as
    the POST handler of their GET-only routes (found by the fuzz: 500)."""
    client = api_as(user_with_role(company, Role.ACCOUNTANT))
    response = client.post(path, {}, format="json")
    assert response.status_code == 405, response.content
    assert set(response.json()) == {"code", "message", "details"}


@pytest.mark.django_db
def test_post_to_a_ledger_written_only_by_its_services_answers_405(company, api_as):
    """Customer advances are written by payments only: their list takes no POST (the fuzz found
    a 500 there)."""
    client = api_as(user_with_role(company, Role.ACCOUNTANT))
    response = client.post("/api/sales/advances/", {}, format="json")
    assert response.status_code == 405, response.content
    assert set(response.json()) == {"code", "message", "details"}
