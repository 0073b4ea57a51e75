"""The CFDI API and admin: stored documents scoped by company, XML downloaded exactly as stamped,
the rule check on a description."""

from decimal import Decimal as D

import pytest

from cfdi import services
from erp.models import Role
from tests.factories import user_with_role
from tests.factories_cfdi import install_test_csd, seed_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def stamped(company):
    install_test_csd(company)
    return services.issue_cfdi(
        company=company, document=seed_invoice(company), source_model="sales.invoice", source_id=3
    )


def test_list_and_detail(stamped, cashier, api_as):
    client = api_as(cashier)
    rows = client.get("/api/cfdi/documents/").json()["results"]
    assert [r["uuid"] for r in rows] == [stamped.uuid]
    detail = client.get(f"/api/cfdi/documents/{stamped.pk}/").json()
    assert detail["cfdi_column"] == "TFD" and detail["status"] == "stamped"
    assert (detail["subtotal"], detail["total"]) == ("3150.00", "3654.00")
    assert (detail["source_model"], detail["source_id"]) == ("sales.invoice", 3)
    assert "xml" not in detail


def test_filters(stamped, cashier, api_as):
    client = api_as(cashier)
    assert client.get("/api/cfdi/documents/?status=sealed").json()["results"] == []
    assert (
        len(client.get("/api/cfdi/documents/?source_model=sales.invoice&source_id=3").json()["results"]) == 1
    )


def test_xml_download_is_byte_for_byte_the_stamped_xml(stamped, cashier, api_as):
    response = api_as(cashier).get(f"/api/cfdi/documents/{stamped.pk}/xml/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert stamped.uuid in response["Content-Disposition"]
    assert response.content == bytes(stamped.xml)


def test_another_companys_document_answers_404(stamped, other_company, api_as):
    client = api_as(user_with_role(other_company, Role.ACCOUNTANT))
    assert client.get(f"/api/cfdi/documents/{stamped.pk}/").status_code == 404
    assert client.get(f"/api/cfdi/documents/{stamped.pk}/xml/").status_code == 404
    assert client.get("/api/cfdi/documents/").json()["results"] == []


def test_documents_are_read_only(stamped, accountant, api_as):
    client = api_as(accountant)
    assert client.post("/api/cfdi/documents/", {}, format="json").status_code in (403, 405)
    assert client.patch(f"/api/cfdi/documents/{stamped.pk}/", {"total": "1"}, format="json").status_code in (
        403,
        405,
    )


def test_list_query_count(stamped, company, cashier, api_as, django_assert_max_num_queries):
    for folio in range(2, 6):
        services.issue_cfdi(company=company, document=seed_invoice(company, folio=str(folio)))
    client = api_as(cashier)
    with django_assert_max_num_queries(4):
        rows = client.get("/api/cfdi/documents/").json()["results"]
    assert len(rows) == 5


CHECK = {
    "concepts": [
        {
            "product_key": "01010101",
            "unit_key": "H87",
            "description": "A",
            "quantity": "100",
            "unit_price": "11.50",
        },
        {
            "product_key": "01010101",
            "unit_key": "KGM",
            "description": "B",
            "quantity": "200",
            "unit_price": "10.00",
        },
    ]
}


def test_check_endpoint_returns_totals_and_no_findings(company, cashier, api_as):
    response = api_as(cashier).post("/api/cfdi/check/", {**CHECK, "company": company.pk}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["ok"] is True and body["findings"] == []
    assert (body["totals"]["subtotal"], body["totals"]["iva"], body["totals"]["total"]) == (
        "3150.00",
        "504.00",
        "3654.00",
    )


def test_check_endpoint_reports_findings(company, cashier, api_as):
    receiver = {
        "rfc": "XAXX010101000",
        "name": "JUAN",
        "postal_code": "01000",
        "regimen_fiscal": "616",
        "uso_cfdi": "G03",
    }
    response = api_as(cashier).post(
        "/api/cfdi/check/", {**CHECK, "company": company.pk, "receiver": receiver}, format="json"
    )
    body = response.json()
    assert body["ok"] is False
    assert {"CFDI40146", "CFDI40149", "CFDI40161"} <= {f["code"] for f in body["findings"]}


def test_check_endpoint_refuses_other_companies(company, other_company, cashier, api_as):
    response = api_as(cashier).post("/api/cfdi/check/", {**CHECK, "company": other_company.pk}, format="json")
    assert response.status_code in (400, 403)
    assert set(response.json()) == {"code", "message", "details"}


def test_admin_lists_documents_and_downloads_xml(stamped, admin_client):
    page = admin_client.get("/admin/cfdi/cfdidocument/").content.decode()
    assert stamped.uuid in page and "TFD" in page
    response = admin_client.get(f"/admin/cfdi/cfdidocument/{stamped.pk}/xml/")
    assert response.content == bytes(stamped.xml)
    assert admin_client.get(f"/admin/cfdi/cfdidocument/{stamped.pk}/change/").status_code == 200


def test_amount_fields_are_decimal(stamped):
    stamped.refresh_from_db()
    assert stamped.total == D("3654.00")


def test_cfdi_columns_for_an_invoice_list(stamped, company, django_assert_num_queries):
    from cfdi.selectors import cfdi_columns

    services.seal_cfdi(
        company=company, document=seed_invoice(company, folio="9"), source_model="sales.invoice", source_id=4
    )
    with django_assert_num_queries(1):
        columns = cfdi_columns("sales.invoice", [3, 4, 5])
    assert columns == {3: "TFD", 4: "---", 5: "---"}
    stamped.pdf.name = "cfdi/pdf/a.pdf"
    stamped.save(update_fields=["pdf"])
    assert cfdi_columns("sales.invoice", [3])[3] == "PDF"
