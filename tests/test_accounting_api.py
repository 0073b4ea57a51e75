"""Journal entries, trial balance and the SAT exports through the API; the admin screen."""

import pytest

from accounting.models import JournalEntry, JournalLine
from accounting.sat_export import schema_errors
from tests.factories_ledgers import demo_chart

pytestmark = pytest.mark.django_db
URL = "/api/accounting/entries/"


@pytest.fixture
def chart(company):
    return demo_chart(company)


def entry(company, chart, debit="1160.00", credit="1160.00", day="2026-02-10"):
    return {"company": company.pk, "kind": "I", "date": day, "concept": "Venta de contado", "lines": [
        {"account": chart.caja.pk, "debit": debit, "payments": [
            {"kind": "other", "date": day, "beneficiary": "PUBLICO EN GENERAL", "rfc": "XAXX010101000",
             "amount": debit, "method": "01"}]},
        {"account": chart.ventas.pk, "credit": credit},
    ]}  # fmt: skip


def test_post_list_detail_and_cancel(company, chart, accountant, api_as):
    client = api_as(accountant)
    created = client.post(URL, entry(company, chart), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["sat_id"], body["total"], body["status"]) == ("I-1", "1160.00", "posted")
    assert body["lines"][0]["payments"][0]["method"] == "01"
    assert client.get(URL, {"kind": "I", "month": 2}).json()["count"] == 1
    cancelled = client.post(f"{URL}{body['id']}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert client.post(f"{URL}{body['id']}/cancel/").status_code == 409


def test_unbalanced_entry_answers_400_with_the_message_and_writes_nothing(company, chart, accountant, api_as):
    response = api_as(accountant).post(URL, entry(company, chart, credit="1000.00"), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "poliza_descuadrada",
        "message": "La póliza no cuadra: cargos 1,160.00 y abonos 1,000.00.",
        "details": {"debit": "1160.00", "credit": "1000.00"},
    }
    assert JournalEntry.objects.count() == JournalLine.objects.count() == 0


def test_cashier_cannot_post_entries(company, chart, cashier, api_as):
    assert api_as(cashier).post(URL, entry(company, chart), format="json").status_code == 403


def test_trial_balance_and_sat_exports(company, chart, accountant, api_as):
    client = api_as(accountant)
    client.post(URL, entry(company, chart), format="json")
    balance = client.get(
        f"{URL}trial-balance/", {"company": company.pk, "date_from": "2026-02-01", "date_to": "2026-02-28"}
    )
    assert balance.status_code == 200, balance.json()
    data = balance.json()
    assert data["balances"] is True and data["totals"]["debit"] == data["totals"]["credit"] == "1160.00"
    assert {r["code"]: r["closing"] for r in data["rows"]}["101"] == "1160.00"

    params = {"company": company.pk, "year": 2026, "month": 2}
    for path, schema in (("sat-catalog", "catalogo"), ("sat-trial-balance", "balanza")):
        response = client.get(f"{URL}{path}/", params)
        assert response.status_code == 200 and response["Content-Type"] == "application/xml"
        assert schema_errors(response.content, schema) == []
    response = client.get(
        f"{URL}sat-entries/", {**params, "request_type": "DE", "procedure_number": "AB123456789012"}
    )
    assert response.status_code == 200
    assert f'filename="{company.rfc}202602PL.xml"' in response["Content-Disposition"]
    assert schema_errors(response.content, "polizas") == []


def test_exports_of_another_company_answer_404(company, other_company, chart, accountant, api_as):
    response = api_as(accountant).get(
        f"{URL}sat-catalog/", {"company": other_company.pk, "year": 2026, "month": 2}
    )
    assert response.status_code == 404


def test_admin_lists_entries_and_cancels(company, chart, accountant, api_as, client):
    entry_id = api_as(accountant).post(URL, entry(company, chart), format="json").json()["id"]
    client.force_login(accountant)
    assert client.get("/admin/accounting/journalentry/").status_code == 200
    assert client.get(f"/admin/accounting/journalentry/{entry_id}/change/").status_code == 200
    client.post(
        "/admin/accounting/journalentry/", {"action": "cancel_entries", "_selected_action": [entry_id]}
    )
    assert JournalEntry.objects.get().status == "cancelled"


def _form(company, chart, credit):
    data = {"company": company.pk, "kind": "D", "date": "2026-02-12", "concept": "Ajuste manual", "origin": "",
            "lines-TOTAL_FORMS": "8", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000",
            "lines-0-account": chart.costo_ventas.pk, "lines-0-debit": "50.00",
            "lines-1-account": chart.inventario.pk, "lines-1-credit": credit}  # fmt: skip
    return data


def test_accountant_posts_a_manual_entry_in_the_admin(company, chart, accountant, client):
    client.force_login(accountant)
    url = "/admin/accounting/journalentry/add/"
    page = client.get(url)
    assert page.status_code == 200
    assert (
        "<th>Cuenta</th><th>Cargo</th><th>Abono</th><th>Concepto de la partida</th>" in page.content.decode()
    )
    refused = client.post(url, _form(company, chart, "40.00"))
    assert refused.status_code == 200
    assert "La póliza no cuadra: cargos 50.00 y abonos 40.00." in refused.content.decode()
    assert JournalEntry.objects.count() == 0

    posted = client.post(url, _form(company, chart, "50.00"))
    assert posted.status_code == 302
    entry = JournalEntry.objects.get()
    assert (entry.sat_id, entry.total, entry.created_by) == ("D-1", 50, accountant)


def test_cashier_has_no_entry_screen(company, chart, cashier, client):
    client.force_login(cashier)
    assert client.get("/admin/accounting/journalentry/add/").status_code in (302, 403)


def test_admin_entry_page_shows_the_e_accounting_records(company, chart, accountant, api_as, client):
    entry_id = api_as(accountant).post(URL, entry(company, chart), format="json").json()["id"]
    client.force_login(accountant)
    page = client.get(f"/admin/accounting/journalentry/{entry_id}/change/").content.decode()
    assert "Otro método de pago 01" in page and "XAXX010101000" in page
