"""The global invoice of counter sales through the API (issue 17): tickets posted without a CFDI of
their own, grouped into one CFDI to PUBLICO EN GENERAL with InformacionGlobal; a ticket invoiced
on its own leaves it; a ticket in a stamped global invoice is refused.

Every CFDI a test stamps is verified independently (XSD, sello, SelloSAT, arithmetic)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from cfdi import checker
from cfdi.models import CfdiDocument
from cfdi.pac.sandbox import sandbox_certificate
from demo.services import load_demo
from inventory.models import Product
from sales.global_invoice.models import GlobalInvoice, GlobalInvoiceTicket
from sales.global_invoice.services import due_period, issue_due_global_invoices, months_for
from sales.models import Customer, SalesDocument, SalesEntity
from tests.cfdi_verify import CFDI, verify_cfdi
from tests.factories_ledgers import opening_stock
from tests.test_delivery_documents import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verified_books")]
D = Decimal


@pytest.fixture
def demo():
    demo = load_demo()
    products = Product.objects.filter(company=demo.company, code__in=("A", "B", "CERV", "GASOL"))
    opening_stock(demo.company, [(p, 500, "5") for p in products])
    SalesEntity.objects.filter(company=demo.company, code="PACHUCA").update(counter_tickets=True)
    return demo


@pytest.fixture
def contador(demo, api_as):
    """Cancelling a posted document (and its CFDI) is the accountant's (issue 10)."""
    return api_as(get_user_model().objects.get(username="contador"))


@pytest.fixture
def client(demo, api_as):
    return api_as(get_user_model().objects.get(username="cajero"))


def entity(demo):
    return SalesEntity.objects.get(company=demo.company, code="PACHUCA")


def sell(client, demo, lines, *, customer=0, day=None, capture=None):
    """A contado sale at the counter, posted; returns the invoice as the API shows it."""
    body = {
        "entity": entity(demo).pk,
        "customer": customer,
        "date": str(day or date.today()),
        "payment": "cash",
        "lines": [{"product": code, "quantity": qty} for code, qty in lines],
    }
    created = client.post("/api/sales/invoices/", body, format="json")
    assert created.status_code == 201, created.json()
    invoice = created.json()
    caja = demo.company.cashbankaccount_set.get(code="CAJA")
    with capture(execute=True):
        posted = client.post(
            f"/api/sales/invoices/{invoice['id']}/post/",
            {"collections": [{"account": caja.pk, "amount": invoice["total"], "method": "01"}]},
            format="json",
        )
    assert posted.status_code == 200, posted.json()
    return posted.json()


def own_cfdi(invoice_id):
    return CfdiDocument.objects.filter(source_model="sales.salesdocument", source_id=invoice_id)


def create_global(client, demo, day=None, **extra):
    day = day or date.today()
    body = {"company": demo.company.pk, "entity": entity(demo).pk, "date_from": str(day), "date_to": str(day)}
    return client.post("/api/sales/global-invoices/", {**body, **extra}, format="json")


def issue(client, global_id, capture):
    with capture(execute=True):
        response = client.post(f"/api/sales/global-invoices/{global_id}/issue/")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_day_of_tickets_becomes_one_global_invoice(
    contador, demo, client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    tickets = [
        sell(client, demo, [("A", "3")], capture=capture),
        sell(
            client, demo, [("A", "1"), ("CERV", "6")], capture=capture
        ),  # IVA 16% and IEPS 26.5%: two concepts
        sell(client, demo, [("B", "2.5"), ("A", "0.333"), ("A", "0.777")], capture=capture),
        sell(client, demo, [("GASOL", "12")], capture=capture),  # IEPS by quota: one concept per line
    ]
    apart = sell(client, demo, [("A", "2")], capture=capture)
    # Tickets get no CFDI of their own when posted.
    assert all(SalesDocument.objects.get(pk=t["id"]).ticket for t in tickets + [apart])
    assert not CfdiDocument.objects.exists()

    # The customer of the last ticket asks for their invoice: it is stamped to them, not to the public.
    customer = Customer.objects.get(company=demo.company, number=1)
    with capture(execute=True):
        own = client.post(
            "/api/sales/global-invoices/invoice-ticket/", {"ticket": apart["id"], "customer": customer.number}
        )
    assert own.status_code == 200, own.json()
    apart_root = verify_cfdi(bytes(own_cfdi(apart["id"]).get().xml), pac_certificate=sandbox_certificate())
    assert apart_root.find(f"{CFDI}Receptor").get("Rfc") == customer.rfc
    assert apart_root.find(f"{CFDI}InformacionGlobal") is None

    created = create_global(client, demo, periodicity="01")
    assert created.status_code == 201, created.json()
    draft = created.json()
    assert draft["status"] == "draft"
    assert sorted(t["ticket"] for t in draft["tickets"]) == sorted(t["id"] for t in tickets)
    issued = issue(client, draft["id"], capture)
    assert issued["status"] == "issued" and issued["cfdi_uuid"]

    xml = client.get(f"/api/sales/global-invoices/{draft['id']}/xml/")
    assert xml.status_code == 200
    root = verify_cfdi(xml.content, pac_certificate=sandbox_certificate())
    assert checker.check(root) == []
    receptor = root.find(f"{CFDI}Receptor")
    assert (
        receptor.get("Rfc"),
        receptor.get("Nombre"),
        receptor.get("RegimenFiscalReceptor"),
        receptor.get("UsoCFDI"),
        receptor.get("DomicilioFiscalReceptor"),
    ) == ("XAXX010101000", "PUBLICO EN GENERAL", "616", "S01", root.get("LugarExpedicion"))
    info = root.find(f"{CFDI}InformacionGlobal")
    today = date.today()
    assert (info.get("Periodicidad"), info.get("Meses"), info.get("Año")) == (
        "01",
        f"{today.month:02d}",
        str(today.year),
    )
    assert (root.get("MetodoPago"), root.get("FormaPago"), root.get("TipoDeComprobante")) == (
        "PUE",
        "01",
        "I",
    )

    # The total equals the tickets'; the ticket invoiced apart is not in it.
    assert D(root.get("Total")) == sum(D(t["total"]) for t in tickets)
    concepts = root.findall(f"{CFDI}Conceptos/{CFDI}Concepto")
    numbers = {f"{t['series']}{t['number']}" for t in tickets}
    assert {c.get("NoIdentificacion") for c in concepts} == numbers
    assert f"{apart['series']}{apart['number']}" not in {c.get("NoIdentificacion") for c in concepts}
    assert {(c.get("ClaveProdServ"), c.get("ClaveUnidad"), c.get("Descripcion")) for c in concepts} == {
        ("01010101", "ACT", "Venta")
    }
    # Per ticket, the concepts carry the ticket's own amounts and taxes.
    for ticket in tickets:
        mine = [c for c in concepts if c.get("NoIdentificacion") == f"{ticket['series']}{ticket['number']}"]
        importe = sum(D(c.get("Importe")) - D(c.get("Descuento") or "0") for c in mine)
        taxes = sum(D(t.get("Importe") or "0") for c in mine for t in c.iterfind(f".//{CFDI}Traslado"))
        assert importe + taxes == D(ticket["total"])
    first = [
        c for c in concepts if c.get("NoIdentificacion") == f"{tickets[0]['series']}{tickets[0]['number']}"
    ]
    assert [(c.get("Cantidad"), c.get("ValorUnitario")) for c in first] == [("1", "34.50")]
    assert len([c for c in concepts if c.get("NoIdentificacion").endswith(str(tickets[1]["number"]))]) == 2

    # Printed through the delivery pipeline.
    pdf = client.get(f"/api/sales/global-invoices/{draft['id']}/pdf/")
    assert pdf.status_code == 200 and "PUBLICO EN GENERAL" in pdf_text(pdf.content)

    # A ticket in the stamped global invoice cannot be invoiced apart; nothing changes.
    refused = client.post(
        "/api/sales/global-invoices/invoice-ticket/",
        {"ticket": tickets[0]["id"], "customer": customer.number},
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "ticket_en_factura_global"
    assert "ya está en la factura global" in refused.json()["message"]
    assert SalesDocument.objects.get(pk=tickets[0]["id"]).customer_number == 0
    assert not own_cfdi(tickets[0]["id"]).exists()
    # Nor can it be cancelled alone: SAT holds the sale in the global invoice.
    cancel = contador.post(f"/api/sales/invoices/{tickets[0]['id']}/cancel/")
    assert cancel.status_code == 409 and cancel.json()["code"] == "ticket_en_factura_global"
    assert SalesDocument.objects.get(pk=tickets[0]["id"]).status != "cancelled"

    # No ticket is left for the day: a second global invoice is refused in Spanish.
    again = create_global(client, demo)
    assert again.status_code == 400 and again.json()["code"] == "sin_tickets"
    assert GlobalInvoice.objects.count() == 1


def test_a_ticket_invoiced_apart_leaves_a_draft_global_invoice(
    contador, demo, client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    first = sell(client, demo, [("A", "3")], capture=capture)
    second = sell(client, demo, [("B", "4")], capture=capture)
    draft = create_global(client, demo).json()
    assert draft["total"] == str(D(first["total"]) + D(second["total"]))

    customer = Customer.objects.get(company=demo.company, number=1)
    with capture(execute=True):
        own = client.post(
            "/api/sales/global-invoices/invoice-ticket/",
            {"ticket": second["id"], "customer": customer.number},
        )
    assert own.status_code == 200, own.json()
    assert own_cfdi(second["id"]).get().status == "stamped"
    assert not GlobalInvoiceTicket.objects.get(ticket=second["id"]).active

    issued = issue(client, draft["id"], capture)
    assert issued["total"] == first["total"]
    assert [t["ticket"] for t in issued["tickets"] if t["active"]] == [first["id"]]
    root = verify_cfdi(client.get(f"/api/sales/global-invoices/{draft['id']}/xml/").content)
    assert root.get("Total") == first["total"]

    # Cancelling the global invoice (with SAT first) frees its tickets for another one.
    with capture(execute=True):
        cancelled = contador.post(
            f"/api/sales/global-invoices/{draft['id']}/cancel/", {"motive": "02"}, format="json"
        )
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == "cancelled"
    assert create_global(client, demo).status_code == 201


def test_a_sale_outside_the_setting_is_stamped_on_its_own(demo, client, django_capture_on_commit_callbacks):
    SalesEntity.objects.filter(pk=entity(demo).pk).update(counter_tickets=False)
    sale = sell(client, demo, [("A", "1")], capture=django_capture_on_commit_callbacks)
    assert not SalesDocument.objects.get(pk=sale["id"]).ticket
    assert own_cfdi(sale["id"]).get().status == "stamped"
    refused = create_global(client, demo)
    assert refused.status_code == 400 and refused.json()["code"] == "sin_tickets"


def test_refusals_change_nothing(demo, client, django_capture_on_commit_callbacks):
    sell(client, demo, [("A", "1")], capture=django_capture_on_commit_callbacks)
    today = date.today()
    bimonthly = create_global(client, demo, periodicity="05")
    assert bimonthly.status_code == 400 and "621" in bimonthly.json()["message"]
    future = create_global(client, demo, date_to=str(today + timedelta(days=1)))
    assert future.status_code == 400 and future.json()["code"] == "periodo_invalido"
    two_months = create_global(client, demo, date_from=str(today.replace(day=1) - timedelta(days=1)))
    assert two_months.status_code == 400 and "un mes" in two_months.json()["message"]
    assert not GlobalInvoice.objects.exists()
    customer0 = Customer.objects.get(company=demo.company, entity=entity(demo), number=0)
    ticket = SalesDocument.objects.get(ticket=True)
    to_public = client.post(
        "/api/sales/global-invoices/invoice-ticket/", {"ticket": ticket.pk, "customer": customer0.number}
    )
    assert to_public.status_code == 400 and to_public.json()["code"] == "cliente_invalido"
    assert not CfdiDocument.objects.exists()


def test_periods_and_months():
    assert months_for("01", date(2026, 11, 3), date(2026, 11, 3)) == "11"
    assert months_for("05", date(2026, 3, 1), date(2026, 4, 30)) == "14"
    assert months_for("05", date(2026, 11, 1), date(2026, 12, 31)) == "18"
    assert due_period("01", date(2026, 12, 3)) == (date(2026, 12, 2), date(2026, 12, 2))
    assert due_period("02", date(2026, 12, 7)) == (date(2026, 11, 30), date(2026, 12, 6)) or due_period(
        "02", date(2026, 12, 7)
    ) == (date(2026, 12, 1), date(2026, 12, 6))
    assert due_period("02", date(2026, 12, 1)) == (date(2026, 11, 30), date(2026, 11, 30))  # the month's end
    assert due_period("02", date(2026, 12, 3)) is None
    assert due_period("03", date(2026, 12, 16)) == (date(2026, 12, 1), date(2026, 12, 15))
    assert due_period("04", date(2026, 12, 1)) == (date(2026, 11, 1), date(2026, 11, 30))
    assert due_period("04", date(2026, 12, 2)) is None
    assert due_period("05", date(2027, 1, 1)) == (date(2026, 11, 1), date(2026, 12, 31))


def test_the_schedule_issues_yesterdays_global_invoice(demo, client, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    yesterday = date.today() - timedelta(days=1)
    ticket = sell(client, demo, [("A", "2")], day=yesterday, capture=capture)
    sell(client, demo, [("A", "5")], capture=capture)  # today's: not in yesterday's period
    assert issue_due_global_invoices() == []  # the entity does not issue automatically
    SalesEntity.objects.filter(pk=entity(demo).pk).update(global_schedule=True, global_periodicity="01")
    with capture(execute=True):
        issued = issue_due_global_invoices()
    assert len(issued) == 1
    global_invoice = GlobalInvoice.objects.get(pk=issued[0])
    assert (global_invoice.status, global_invoice.date_from, global_invoice.date_to) == (
        "issued",
        yesterday,
        yesterday,
    )
    assert [line.ticket_id for line in global_invoice.tickets.all()] == [ticket["id"]]
    with capture(execute=True):
        assert issue_due_global_invoices() == []  # run twice: nothing is taken again


def test_the_cashier_button_issues_the_global_invoice(demo, client, django_capture_on_commit_callbacks):
    from django.test import Client

    capture = django_capture_on_commit_callbacks
    ticket = sell(client, demo, [("A", "3")], capture=capture)
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="cajero"))
    listing = browser.get(f"/caja/facturas/{entity(demo).pk}/")
    assert 'id="global-invoice"' in listing.content.decode() and ">Ticket<" in listing.content.decode()
    with capture(execute=True):
        response = browser.post(f"/caja/facturas/{entity(demo).pk}/global/", follow=True)
    page = response.content.decode()
    global_invoice = GlobalInvoice.objects.get()
    assert f"Factura global FG{global_invoice.pk} emitida: 1 ticket(s) por {D(ticket['total']):,.2f}." in page
    assert global_invoice.status == "issued"
    with capture(execute=True):
        again = browser.post(f"/caja/facturas/{entity(demo).pk}/global/")
    assert again.status_code == 200 and "No hay tickets sin facturar" in again.content.decode()
    assert GlobalInvoice.objects.count() == 1
