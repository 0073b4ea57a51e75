"""Every API error keeps the shape {"code", "message", "details"}, Django's own included (issue 10)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(accountant):
    client = Client()
    client.force_login(accountant)
    return client


def shaped(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["message"]
    return body


def test_an_unknown_route_answers_404_in_the_shape(client):
    assert shaped(client.get("/api/no-existe/"), 404)["code"] == "no_encontrado"
    shaped(client.get("/api/sales/invoices/abc/track/"), 404)


def test_a_body_too_large_answers_413_and_nothing_is_read(client, company):
    body = '{"legal_name": "' + "x" * (3 * 1024 * 1024) + '"}'
    response = client.post("/api/sales/customers/", body, content_type="application/json")
    assert shaped(response, 413)["code"] == "cuerpo_muy_grande"


def test_bad_json_answers_400_in_the_shape(client):
    response = client.post("/api/sales/invoices/", "{not json", content_type="application/json")
    assert shaped(response, 400)["code"] == "parse_error"


def test_a_method_a_route_does_not_take_answers_405_in_the_shape(client):
    body = shaped(client.delete("/api/sales/invoices/"), 405)
    assert "DELETE" in body["message"]
    body = shaped(client.post("/api/sales/receivable-records/", {}, content_type="application/json"), 405)
    body = shaped(client.put("/api/cfdi/check/", "{}", content_type="application/json"), 405)


def test_an_invalid_content_length_answers_400(client):
    response = client.post(
        "/api/sales/customers/", "{}", content_type="application/json", CONTENT_LENGTH="abc"
    )
    shaped(response, 400)


def test_pages_outside_the_api_keep_django_s_pages(client):
    response = client.get("/caja/no-existe/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
