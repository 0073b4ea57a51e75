"""The accountant's sales documents list in the admin (issue 19): the seed's status tabs (Todas
without drafts, Generadas, Emitidas, Revertidas, Canceladas; Borradores apart), its periods (hoy
by default, semana, mes, especial) and colours by the effective status, and the seed's processes
from the list and from the document's page. Through the test client, as the accountant."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from cfdi.models import CfdiDocument
from demo.services import load_demo
from inventory.services import audit_stock_movement, revert_stock_movement
from sales.cancellation import cancel_invoice_and_cfdi
from sales.documents import LineRequest, create_document
from sales.external_cfdi import load_external_cfdi
from sales.models import Customer, SalesDocument, SalesEntity
from sales.posting import post_invoice
from tests.list_rows import World
from tests.test_sales_external_cfdi_api import cfdi_xml

pytestmark = pytest.mark.django_db

LIST = "/admin/sales/salesdocument/"


def _world() -> World:
    company = load_demo().company
    entity = SalesEntity.objects.select_related("company", "warehouse").get(company=company, code="PACHUCA")
    return World(
        company=company,
        entity=entity,
        customer=Customer.objects.get(entity=entity, number=1),
        cash=company.cashbankaccount_set.select_related("currency", "ledger_account").get(code="CAJA"),
        user=get_user_model().objects.get(username="contador"),
    )


def _service_invoice(world: World, day) -> SalesDocument:
    """A posted crédito invoice of a service (no stock: any date will do)."""
    document, _ = create_document(
        kind="invoice",
        entity=world.entity,
        customer=world.customer,
        date=day,
        payment="credit",
        lines=[LineRequest("COLEG", Decimal(1), unit_price=Decimal("100"))],
    )
    return post_invoice(document=document, user=world.user)


@pytest.fixture
def day():
    """Today's invoices of every effective status, and older ones: {name: document}."""
    world = _world()
    today = timezone.localdate()
    docs = {
        "generated": world.invoice(day=today),
        "emitted": world.invoice(day=today),
        "reverted": world.invoice(day=today),
        "cancelled": world.invoice(day=today),
        "draft": world.invoice(day=today, post=False),
        "three_days": _service_invoice(world, today - timedelta(days=3)),
        "forty_days": _service_invoice(world, today - timedelta(days=40)),
    }
    audit_stock_movement(movement=docs["emitted"].stock_movement, user=world.user)
    revert_stock_movement(movement=docs["reverted"].stock_movement, user=world.user)
    cancel_invoice_and_cfdi(document=docs["cancelled"], motive="03", user=world.user)
    browser = Client()
    browser.force_login(world.user)
    return world, docs, browser


def _listed(browser, query: str = "") -> set[int]:
    response = browser.get(LIST + query)
    assert response.status_code == 200
    return {document.pk for document in response.context["cl"].result_list}


def _ids(docs, *names) -> set[int]:
    return {docs[name].pk for name in names}


def test_todas_of_today_is_the_default_and_leaves_the_drafts_apart(day):
    _, docs, browser = day
    response = browser.get(LIST)
    assert {d.pk for d in response.context["cl"].result_list} == _ids(
        docs, "generated", "emitted", "reverted", "cancelled"
    )
    page = response.content.decode()
    # The tab bars above the list, with Todas and Hoy selected, and no sidebar of filters.
    assert re.search(r'data-key="todas" class="selected">Todas<', page)
    assert re.search(r'data-key="hoy" class="selected">Hoy<', page)
    assert 'id="changelist-filter"' not in page
    assert (
        page.index('data-key="canceladas"')
        < page.index('class="seed-tabs-apart"')
        < page.index('data-key="borradores"')
    )


@pytest.mark.parametrize(
    "tab, expected",
    [
        ("generadas", ["generated"]),
        ("emitidas", ["emitted"]),
        ("revertidas", ["reverted"]),
        ("canceladas", ["cancelled"]),
        ("borradores", ["draft"]),
    ],
)
def test_each_tab_shows_its_documents_by_the_effective_status(day, tab, expected):
    _, docs, browser = day
    assert _listed(browser, f"?tab={tab}") == _ids(docs, *expected)


def test_the_rows_take_the_seeds_colours_by_the_effective_status(day):
    _, docs, browser = day
    page = browser.get(LIST).content.decode()
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)

    def row_of(document):
        (row,) = [r for r in rows if f"/{document.pk}/change/" in r]
        return row

    assert 'class="st st-generated" style="color: inherit' in row_of(docs["generated"])
    assert re.search(r'class="st st-emitted" style="color: inherit[^>]*>Emitida<', row_of(docs["emitted"]))
    assert re.search(
        r'class="st st-reverted" style="color: #1f5fbf[^>]*>Revertida<', row_of(docs["reverted"])
    )
    assert re.search(
        r'class="st st-cancelled" style="color: #c0392b[^>]*>Cancelada<', row_of(docs["cancelled"])
    )
    # The whole row takes the colour (the stylesheet of the list, by the status inside the row).
    assert (
        "#result_list tr:has(.st-cancelled) > *" in page and "#result_list tr:has(.st-reverted) > *" in page
    )


def test_the_periods_semana_mes_especial_and_todo(day):
    _, docs, browser = day
    today = timezone.localdate()
    posted_today = ("generated", "emitted", "reverted", "cancelled")
    assert _listed(browser, "?period=semana") == _ids(docs, *posted_today, "three_days")
    old = today - timedelta(days=40)
    in_old_month = _listed(browser, f"?period=mes&month={old:%Y-%m}")
    assert docs["forty_days"].pk in in_old_month and docs["generated"].pk not in in_old_month
    assert docs["generated"].pk in _listed(browser, "?period=mes")  # the current month by default
    especial = f"?period=especial&from={today - timedelta(days=41)}&to={today - timedelta(days=1)}"
    assert _listed(browser, especial) == _ids(docs, "three_days", "forty_days")
    assert _listed(browser, f"?period=especial&from={today - timedelta(days=5)}") == _ids(
        docs, *posted_today, "three_days"
    )
    assert _listed(browser, "?period=todas") == _ids(docs, *posted_today, "three_days", "forty_days")
    assert _listed(browser, "?period=todas&tab=borradores") == _ids(docs, "draft")


def test_a_wrong_period_says_why_in_spanish_and_lists_nothing(day):
    _, _, browser = day
    today = timezone.localdate()
    response = browser.get(f"{LIST}?period=especial&from={today}&to={today - timedelta(days=2)}")
    assert response.status_code == 200 and not response.context["cl"].result_list
    assert "El periodo especial empieza" in response.content.decode()
    response = browser.get(f"{LIST}?period=especial&from=31-12-2026")
    assert "fecha inválida «31-12-2026»" in response.content.decode()
    response = browser.get(f"{LIST}?tab=pagadas")
    assert "Pestaña de estatus desconocida: pagadas." in response.content.decode()


def test_the_entity_tabs_list_one_entity(day):
    world, docs, browser = day
    other = SalesEntity.objects.exclude(pk=world.entity.pk).filter(company=world.company).first()
    assert other is not None
    assert _listed(browser, f"?entity={world.entity.pk}") == _ids(
        docs, "generated", "emitted", "reverted", "cancelled"
    )
    assert _listed(browser, f"?entity={other.pk}").isdisjoint(_ids(docs, *docs))


def test_agregar_and_cargar_xml_beside_the_list(day):
    world, _, browser = day
    page = browser.get(f"{LIST}?entity={world.entity.pk}").content.decode()
    assert f'href="/caja/facturas/{world.entity.pk}/nueva/" class="addlink" id="add-invoice"' in page
    assert 'href="/admin/sales/externalcfdi/add/" id="upload-cfdi"' in page


def test_the_documents_page_offers_the_processes_by_its_status(day):
    _, docs, browser = day

    def buttons(document):
        page = browser.get(f"{LIST}{document.pk}/change/").content.decode()
        return re.findall(r'<button type="submit" name="run" value="(\w+)"', page)

    assert buttons(docs["generated"]) == [
        "seal_selected", "send_selected", "link_cfdi_one", "return_one", "rebate_one", "cancel_selected",
        "cancel_not_carried_out",
    ]  # fmt: skip
    assert buttons(docs["draft"]) == ["post_selected"]
    assert buttons(docs["cancelled"]) == []


def test_cancel_from_the_documents_page_runs_the_lists_action(day):
    _, docs, browser = day
    invoice = docs["generated"]
    response = browser.post(f"{LIST}{invoice.pk}/accion/", {"action": "cancel_not_carried_out"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}{invoice.pk}/change/"
    invoice.refresh_from_db()
    assert invoice.status == "cancelled"
    assert invoice.pk in _listed(browser, "?tab=canceladas")
    # An action the user may not run, or one that does not exist, changes nothing.
    other = docs["emitted"]
    assert browser.post(f"{LIST}{other.pk}/accion/", {"action": "delete_selected"}).status_code == 403
    other.refresh_from_db()
    assert other.status == "generated"


def test_devolver_and_rebajar_open_the_credit_note_screen(day):
    _, docs, browser = day
    invoice = docs["generated"]
    response = browser.post(f"{LIST}{invoice.pk}/accion/", {"action": "return_one"})
    assert (
        response.status_code == 302
        and response["Location"] == f"/caja/facturas/factura/{invoice.pk}/devolver/"
    )
    response = browser.post(
        LIST, {"action": "rebate_one", "_selected_action": [invoice.pk]}
    )  # from the list, «Todas» of today
    assert (
        response.status_code == 302
        and response["Location"] == f"/caja/facturas/factura/{invoice.pk}/rebajar/"
    )
    two = browser.post(
        LIST, {"action": "rebate_one", "_selected_action": [invoice.pk, docs["emitted"].pk]}, follow=True
    )
    assert any("Seleccione una sola factura" in str(m) for m in two.context["messages"])


def test_seal_and_send_from_the_list(day, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _, docs, browser = day
    invoice = docs["generated"]
    response = browser.post(LIST, {"action": "seal_selected", "_selected_action": [invoice.pk]}, follow=True)
    assert any("1 factura(s) selladas." in str(m) for m in response.context["messages"]), list(
        response.context["messages"]
    )
    cell = re.search(
        rf'/{invoice.pk}/change/.*?<td class="field-cfdi">(.*?)</td>', response.content.decode(), re.S
    ).group(1)
    assert f'href="/api/sales/invoices/{invoice.pk}/xml/"' in cell
    # A cancelled invoice is not sealed, and the list says so.
    skipped = browser.post(
        LIST + "?tab=canceladas",
        {"action": "seal_selected", "_selected_action": [docs["cancelled"].pk]},
        follow=True,
    )
    assert any("1 documento(s) no son facturas agregadas" in str(m) for m in skipped.context["messages"])
    assert not CfdiDocument.objects.filter(source_id=docs["cancelled"].pk).exists()
    mail.outbox.clear()
    sent = browser.post(LIST, {"action": "send_selected", "_selected_action": [invoice.pk]}, follow=True)
    assert any("1 factura(s) enviadas." in str(m) for m in sent.context["messages"]), list(
        sent.context["messages"]
    )
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["compras@ure.example.mx"]
    names = sorted(name for name, _, _ in mail.outbox[0].attachments)
    assert names[0].endswith(".pdf") and names[1].endswith(".xml")


def test_enlazar_a_factura_from_the_documents_page(day):
    world, docs, browser = day
    target = _service_invoice(world, timezone.localdate())  # one exempt colegiatura: 100.00
    external = load_external_cfdi(entity=world.entity, xml=cfdi_xml(total="100.00"), user=world.user)
    response = browser.post(f"{LIST}{target.pk}/accion/", {"action": "link_cfdi_one"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}{target.pk}/enlazar-cfdi/"
    assert external.uuid in browser.get(response["Location"]).content.decode()

    # The service's rules hold, in its words: a total that differs is refused and nothing changes.
    wrong = browser.post(f"{LIST}{docs['generated'].pk}/enlazar-cfdi/", {"external": external.pk})
    assert wrong.status_code == 200 and "El total en el CFDI no corresponde" in wrong.content.decode()
    external.refresh_from_db()
    assert external.invoice_id is None

    done = browser.post(f"{LIST}{target.pk}/enlazar-cfdi/", {"external": external.pk})
    assert done.status_code == 302 and done["Location"] == f"{LIST}{target.pk}/change/"
    external.refresh_from_db()
    assert external.invoice_id == target.pk
    cell = re.search(
        rf'/{target.pk}/change/.*?<td class="field-cfdi">(.*?)</td>', browser.get(LIST).content.decode(), re.S
    ).group(1)
    assert "Timbrado" in cell and f"/api/sales/invoices/{target.pk}/xml/" in cell
