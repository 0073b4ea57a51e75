"""Issue 21: every write endpoint documents its request body in the OpenAPI schema, so clients
can be generated and fuzzers can build bodies. Only the state actions that take no body (cancel,
audit, revert, seal, generate-invoice, cancellation-status, build-invoice, a sync run, a payment's
post, preview, complement and substitute, a customer import's apply, a global invoice's issue) go
without one."""

import pytest
from drf_spectacular.generators import SchemaGenerator

BODYLESS = (
    "/cancel/", "/audit/", "/revert/", "/seal/", "/generate-invoice/", "/cancellation-status/",
    "/build-invoice/", "/run/", "/complement/", "/substitute/", "/payments/{id}/post/", "/payments/{id}/preview/",
    "/imports/{id}/apply/", "/global-invoices/{id}/issue/", "/discard/",
)  # fmt: skip
LEDGERS = {
    "/api/accounting/entries/": "JournalEntryInput",
    "/api/cashbank/movements/": "CashMovementInput",
    "/api/inventory/stock-movements/": "StockMovementInput",
    "/api/sales/receivables/": "ReceivableInput",
    "/api/sales/receivables/{id}/records/": "RecordInput",
    "/api/sales/invoices/": "DocumentInput",
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _body(operation) -> str | None:
    body = operation.get("requestBody")
    if not body:
        return None
    media = body["content"].get("application/json") or next(iter(body["content"].values()))
    return media["schema"].get("$ref", "inline").rsplit("/", 1)[-1]


def test_every_write_endpoint_documents_its_body(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch") and not path.endswith(BODYLESS) and _body(operation) is None
    ]
    assert missing == []


def test_ledgers_document_their_input_not_their_output(schema):
    for path, name in LEDGERS.items():
        assert _body(schema["paths"][path]["post"]) == f"{name}Request", path


def test_a_ledger_without_input_is_not_offered_for_creation(schema):
    assert "post" not in schema["paths"]["/api/sales/receivable-records/"]
