"""Issue 21: the books prove themselves. ``verify_books`` (command and admin page «Verificar
integridad») is clean after a mixed workload through the API, and reports each invariant when a
test breaks it on purpose, exiting non-zero."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from accounting.models import JournalEntry, JournalLine
from cashbank.models import CashBankAccount, CashMovement
from demo.services import load_demo
from inventory.models import Product, StockLevel, StockMovement
from sales.integrity import verify_books
from sales.models import SalesDocument, SalesEntity
from sales.receivables.models import Receivable
from tests.factories_ledgers import opening_stock

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 20)


@pytest.fixture
def demo():
    demo = load_demo()
    opening_stock(
        demo.company,
        [(Product.objects.get(company=demo.company, code=c), 1000, "5") for c in ("A", "B")],
        "ALM",
    )
    opening_stock(demo.company, [(Product.objects.get(company=demo.company, code="A"), 100, "5")], "MOS")
    return demo


@pytest.fixture
def client(demo, api_as):
    return api_as(get_user_model().objects.get(username="contador"))


def sell(client, demo, payment, entity="PACHUCA", customer=1, currency=None, kind="invoices"):
    entity_ = SalesEntity.objects.get(company=demo.company, code=entity)
    body = {
        "entity": entity_.pk,
        "customer": customer,
        "date": str(DAY),
        "payment": payment,
        "lines": [
            {"product": "A", "quantity": "3"},
            {"product": "COLEG", "quantity": "1", "unit_price": "50"},
        ],
    }
    if currency:
        body.update(currency=currency, exchange_rate="18.50")
    document = client.post(f"/api/sales/{kind}/", body, format="json").json()
    if kind != "invoices":
        return document
    collections = []
    if payment == "cash":
        code = "BBVA-USD" if currency else ("CHICA" if entity == "MOSTRADOR" else "CAJA")
        account = CashBankAccount.objects.get(company=demo.company, code=code)
        collections = [{"account": account.pk, "amount": document["total"]}]
    response = client.post(
        f"/api/sales/invoices/{document['id']}/post/", {"collections": collections}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def mixed_workload(client, demo, django_capture_on_commit_callbacks):
    """Credit, cash (pesos and dollars), no payment, a counter sale, a remission invoiced, a
    cancelled invoice and a stamped one: every path the books have."""
    with django_capture_on_commit_callbacks(execute=True):
        sell(client, demo, "credit")
        sell(client, demo, "cash")
        sell(client, demo, "cash", currency="USD")
        sell(client, demo, "none")
        sell(client, demo, "cash", entity="MOSTRADOR", customer=0)
        cancelled = sell(client, demo, "credit")
    assert client.post(
        f"/api/sales/invoices/{cancelled['id']}/cancel/", {"motive": "02"}, format="json"
    ).status_code in (
        200,
        202,
        409,
    )
    remission = sell(client, demo, "credit", kind="remissions")
    invoice = client.post(f"/api/sales/remissions/{remission['id']}/generate-invoice/").json()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/sales/invoices/{invoice['id']}/post/", {}, format="json").status_code == 200


def broken(code, company=None):
    reports = verify_books(pending_minutes=0)
    report = next(r for r in reports if company is None or r.company == company)
    return report.breaks[code]


def test_clean_after_a_mixed_workload(demo, client, django_capture_on_commit_callbacks):
    mixed_workload(client, demo, django_capture_on_commit_callbacks)
    assert SalesDocument.objects.filter(kind="invoice").exclude(status="draft").count() >= 7
    reports = verify_books(pending_minutes=0)
    assert all(report.ok for report in reports), [r.breaks for r in reports]
    call_command("verify_books", "--pending-minutes", "0")  # exits 0


def test_the_command_exits_non_zero_and_names_the_invariant(
    demo, client, django_capture_on_commit_callbacks, capsys
):
    sell(client, demo, "credit")
    JournalLine.objects.filter(entry__origin__startswith="VFAC", debit__gt=0).update(debit=Decimal("1.00"))
    with pytest.raises(CommandError) as error:
        call_command("verify_books", "--pending-minutes", "0")
    assert error.value.returncode == 1
    out = capsys.readouterr().out
    assert "[ROTO] Cada póliza cuadrada" in out and "[OK] Existencias iguales a sus movimientos" in out


def test_each_invariant_is_reported_when_broken(demo, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        credit = sell(client, demo, "credit")
        cash = sell(client, demo, "cash")
    assert all(r.ok for r in verify_books(pending_minutes=0))
    company = demo.company

    # numbering: a gap in the invoices (the database refuses a repeat), and a póliza number out of
    # its sequence
    SalesDocument.objects.filter(pk=cash["id"]).update(number=cash["number"] + 3)
    assert any("faltan los números" in line for line in broken("numeracion", company))
    SalesDocument.objects.filter(pk=cash["id"]).update(number=cash["number"])
    entry = JournalEntry.objects.filter(company=company).order_by("pk").last()
    JournalEntry.objects.filter(pk=entry.pk).update(number=entry.number + 5)
    assert any("Pólizas tipo" in line for line in broken("numeracion", company))
    JournalEntry.objects.filter(pk=entry.pk).update(number=entry.number)

    # a póliza that does not balance
    line = JournalLine.objects.filter(entry=entry, debit__gt=0).first()
    JournalLine.objects.filter(pk=line.pk).update(debit=line.debit + 1)
    assert broken("polizas_cuadradas", company)
    JournalLine.objects.filter(pk=line.pk).update(debit=line.debit)

    # a stock level that its movements do not explain
    level = StockLevel.objects.filter(company=company).first()
    StockLevel.objects.filter(pk=level.pk).update(quantity=level.quantity + 1)
    assert broken("existencias", company)
    StockLevel.objects.filter(pk=level.pk).update(quantity=level.quantity)

    # a receivable whose balance is not its amount less its records, then one its póliza disagrees with
    receivable = Receivable.objects.get(origin__startswith=f"VFAC|{credit['id']}|")
    Receivable.objects.filter(pk=receivable.pk).update(balance=receivable.balance - 1)
    assert broken("cuentas_por_cobrar", company)
    Receivable.objects.filter(pk=receivable.pk).update(
        balance=receivable.balance - 1, amount=receivable.amount - 1
    )
    assert any("póliza carga a clientes" in line for line in broken("cuentas_por_cobrar", company))
    Receivable.objects.filter(pk=receivable.pk).update(amount=receivable.amount, balance=receivable.balance)

    # a posted invoice with neither CFDI nor recorded error
    from cfdi.models import CfdiDocument

    CfdiDocument.objects.filter(source_id=credit["id"]).delete()
    assert any("sin CFDI" in line for line in broken("cfdi", company))
    SalesDocument.objects.filter(pk=credit["id"]).update(cfdi_error="pac_no_disponible: sin respuesta")
    assert not broken("cfdi", company)

    # a live row of a cancelled invoice, and a posted invoice missing its collection
    SalesDocument.objects.filter(pk=credit["id"]).update(status="cancelled")
    assert any("conserva vivos" in line for line in broken("registros_de_documentos", company))
    SalesDocument.objects.filter(pk=credit["id"]).update(status="generated")
    CashMovement.objects.filter(origin__startswith=f"VFAC|{cash['id']}|").update(status="cancelled")
    assert any("le falta: cobro" in line for line in broken("registros_de_documentos", company))


def test_the_admin_page_shows_each_invariant(demo, client, django_capture_on_commit_callbacks):
    from django.test import Client

    sell(client, demo, "credit")
    StockMovement.objects.filter(origin__startswith="VFAC").update(status="cancelled")
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="contador"))
    listing = browser.get("/admin/sales/salesdocument/")
    assert "Verificar integridad" in listing.content.decode()
    page = browser.get("/admin/sales/salesdocument/verificar-integridad/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "integridad rota" in html and "Existencias iguales a sus movimientos" in html
    assert html.count("<strong>Roto</strong>") >= 1

    cashier = Client()
    cashier.force_login(get_user_model().objects.get(username="cajero"))
    assert cashier.get("/admin/sales/salesdocument/verificar-integridad/").status_code in (302, 403)
