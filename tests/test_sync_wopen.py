"""The CONTPAQi Wopen connection against a Wopen stand-in on loopback (docs/sync-contpaqi-wopen.md):
orders and invoice requests come in through the sales services, invoices are stamped and
reported back, exactly once."""

import base64
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from lxml import etree

from cfdi.models import CfdiDocument
from cfdi.pac.sandbox import sandbox_certificate
from demo.services import DEMO_PASSWORD, load_demo, load_wopen_demo
from erp.models import Role
from erp.services import grant_membership
from inventory.models import Product
from sales.models import Customer, SalesDocument, SalesEntity
from sync.connectors.wopen import URL_TAKEN
from sync.connectors.wopen_source import DEMO_DOCUMENTS, DEMO_USER, WopenSource, WopenSourceServer
from sync.connectors.wopen_source import DEMO_PASSWORD as DEMO_WOPEN_PASSWORD
from sync.engine import execute_run
from sync.models import Connection, Event, Run, WopenDocument
from sync.selectors import default_since, viewer_url
from sync.services import save_connection
from tests.cfdi_verify import CFDI, TFD, verify_cfdi
from tests.factories import CompanyFactory, sales_entity, user_with_role

USER, PASSWORD = "ventas@empresa", "secreto-wopen"
NEW_RFC = "IIA040805DZ4"  # not a demo customer: created from the document's fiscal data


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0.01
    settings.SYNC_SOURCE_ATTEMPTS = 2


def customer(rfc=NEW_RFC, **fields):
    data = {
        "rfc": rfc, "razon_social": "INDISTRIA ILUMINADORA DE ALMACENES", "regimen_fiscal": "601",
        "codigo_postal": "62661", "uso_cfdi": "G03", "correo": "compras@iluminadora.example.mx",
        "forma_pago": "99",
    }  # fmt: skip
    data.update(fields)
    return data


def line(code="ASES", quantity="2", price="1000.00", **fields):
    data = {"codigo": code, "descripcion": f"Partida {code}", "cantidad": quantity, "precio": price,
            "descuento": "0", "iva": "16"}  # fmt: skip
    data.update(fields)
    return data


def document(wopen_id, kind="factura", lines=None, **fields):
    data = {
        "id": wopen_id, "tipo": kind, "fecha": "2026-12-01", "moneda": "MXN", "tipo_cambio": "1",
        "metodo_pago": "PPD", "forma_pago": "99", "referencia": f"REF-{wopen_id}", "observaciones": "",
        "cliente": customer(), "partidas": lines or [line()],
    }  # fmt: skip
    data.update(fields)
    return data


def server(*documents, password=PASSWORD):
    return WopenSourceServer(WopenSource(documents, user=USER, password=password))


def wopen_connection(company, url, *, password=PASSWORD, name="Wopen", **options):
    values = {"base_url": url, "user": USER, "entity": "PACHUCA", "auto_stamp": True, "timeout_seconds": 2}
    values.update(options)
    return save_connection(
        connection=Connection(company=company, kind=Connection.Kind.WOPEN, name=name, options=values),
        credentials=password,
    )


def run_now(connection) -> Run:
    run = Run.objects.create(company=connection.company, connection=connection, trigger=Run.Trigger.MANUAL)
    return execute_run(run_id=run.pk)


def messages(run) -> list[tuple[str, str, str]]:
    return list(Event.objects.filter(run=run).order_by("pk").values_list("level", "record_key", "message"))


def snapshot(company):
    return (
        list(
            SalesDocument.objects.filter(company=company).order_by("pk").values_list("pk", "kind", "status")
        ),
        CfdiDocument.objects.count(),
        Customer.objects.filter(company=company).count(),
        Product.objects.filter(company=company).count(),
        WopenDocument.objects.count(),
    )


@pytest.fixture
def demo(db):
    return load_demo()


# --- the whole way, with real commits: stamped by the CFDI pipeline, then reported back --------


@pytest.mark.django_db(transaction=True)
def test_orders_and_invoice_requests_come_in_and_invoices_are_stamped_and_reported_back():
    demo = load_demo()
    order = document("P-1", kind="pedido", lines=[line("A", "5", "11.50")])
    invoice = document(
        "F-1", lines=[line("ASES", "2", "1000.00"), line("WOP-INST", "1", "850.00", descuento="10")]
    )
    with server(order, invoice) as wopen:
        connection = wopen_connection(
            demo.company,
            wopen.url,
            clave_prod_serv="72151500",
            clave_unidad="E48",
            erp_url="https://erp.example.mx",
        )
        run = run_now(connection)
        reports = dict(wopen.source.reports)

    assert (run.result, run.created, run.updated, run.failed) == ("success", 2, 1, 0), messages(run)
    entity = SalesEntity.objects.get(company=demo.company, code="PACHUCA")
    sales_order = WopenDocument.objects.get(wopen_kind="pedido", wopen_id="P-1").document
    assert (sales_order.kind, sales_order.entity_id, sales_order.status) == ("order", entity.pk, "generated")
    assert (sales_order.customer_rfc, sales_order.reference, sales_order.date) == (
        NEW_RFC,
        "REF-P-1",
        date(2026, 12, 1),
    )
    assert sales_order.total == SalesDocument.objects.get(pk=sales_order.pk).lines.get().importe * 116 / 100

    created = Customer.objects.get(company=demo.company, entity=entity, rfc=NEW_RFC)
    assert (created.name, created.regimen_fiscal, created.postal_code) == (
        "INDISTRIA ILUMINADORA DE ALMACENES",
        "601",
        "62661",
    )
    new_product = Product.objects.get(company=demo.company, code="WOP-INST")
    assert (new_product.sat_product_key, new_product.sat_unit_key, new_product.is_service) == (
        "72151500",
        "E48",
        True,
    )

    link = WopenDocument.objects.get(wopen_kind="factura", wopen_id="F-1")
    posted = link.document
    assert (posted.kind, posted.status, posted.number, posted.customer_id) == (
        "invoice",
        "emitted",
        1,
        created.pk,
    )
    cfdi = CfdiDocument.objects.get(source_model="sales.salesdocument", source_id=posted.pk)
    assert cfdi.status == "stamped"
    root = verify_cfdi(bytes(cfdi.xml), pac_certificate=sandbox_certificate())
    assert root.find(f"{CFDI}Receptor").get("Rfc") == NEW_RFC
    concepts = root.findall(f"{CFDI}Conceptos/{CFDI}Concepto")
    assert [(c.get("NoIdentificacion"), c.get("ClaveProdServ"), c.get("ClaveUnidad")) for c in concepts] == [
        ("ASES", "80101500", "E48"),
        ("WOP-INST", "72151500", "E48"),
    ]
    assert concepts[1].get("Descuento") == "85.00"
    uuid = root.find(f"{CFDI}Complemento/{TFD}TimbreFiscalDigital").get("UUID")
    assert reports == {
        "F-1": {
            "serie": posted.series,
            "folio": "1",
            "uuid": uuid.upper(),
            "xml_url": f"https://erp.example.mx/api/sales/invoices/{posted.pk}/xml/",
            "pdf_url": f"https://erp.example.mx/api/sales/invoices/{posted.pk}/pdf/",
        }
    }
    assert link.reported_at is not None
    keys = [key for _, key, _ in messages(run)]
    assert {"P-1", "F-1"} <= set(keys)

    # Again, with the cursor lost (a worker that died before writing it): nothing new, nothing
    # stamped or reported twice.
    Connection.objects.filter(pk=connection.pk).update(cursor="")
    with server(order, invoice) as wopen:
        options = {**connection.options, "base_url": wopen.url}
        Connection.objects.filter(pk=connection.pk).update(options=options)
        again = run_now(Connection.objects.get(pk=connection.pk))
        assert wopen.source.report_calls == 0
    assert (again.created, again.updated, again.failed, again.message) == (0, 0, 0, "Sin cambios")
    assert CfdiDocument.objects.filter(source_id=posted.pk).count() == 1


# --- without automatic stamping, unknown products, repeats -------------------------------------


def test_without_automatic_stamping_the_invoice_waits_as_a_draft(demo, django_capture_on_commit_callbacks):
    with server(document("F-7")) as wopen:
        connection = wopen_connection(demo.company, wopen.url, auto_stamp=False)
        with django_capture_on_commit_callbacks(execute=True):
            run = run_now(connection)
        assert wopen.source.reports == {}
    invoice = WopenDocument.objects.get(wopen_id="F-7").document
    assert (invoice.kind, invoice.status, invoice.number) == ("invoice", "draft", None)
    assert not CfdiDocument.objects.exists()
    assert (run.result, run.created) == ("success", 1)
    assert "recibida como borrador" in messages(run)[0][2]


def test_unknown_product_without_default_keys_skips_the_document_naming_the_product(demo):
    before = snapshot(demo.company)
    bad = document("F-8", lines=[line("ASES"), line("NO-EXISTE", "1", "10")])
    good = document("P-9", kind="pedido", lines=[line("ASES")])
    with server(bad, good) as wopen:
        connection = wopen_connection(demo.company, wopen.url)
        run = run_now(connection)
    assert (run.result, run.created, run.failed) == ("partial", 1, 1)
    level, key, message = messages(run)[0]
    assert (level, key) == ("error", "F-8")
    assert "«NO-EXISTE» no existe" in message and "Clave Prod/Serv" in message
    assert not Product.objects.filter(code="NO-EXISTE").exists()
    assert not WopenDocument.objects.filter(wopen_id="F-8").exists()
    documents, _, _, products, _ = snapshot(demo.company)
    assert (len(documents), products) == (len(before[0]) + 1, before[3])


def test_a_repeated_run_creates_nothing_new(demo):
    with server(document("F-10"), document("P-10", kind="pedido")) as wopen:
        connection = wopen_connection(demo.company, wopen.url, auto_stamp=False, page_size=1)
        first = run_now(connection)
        after_first = snapshot(demo.company)
        Connection.objects.filter(pk=connection.pk).update(cursor="")  # read everything again
        second = run_now(Connection.objects.get(pk=connection.pk))
    assert (first.created, second.created, second.unchanged, second.message) == (2, 0, 2, "Sin cambios")
    assert snapshot(demo.company) == after_first


def test_a_worker_dying_halfway_leaves_each_document_once(demo):
    """The second page fails (the worker's source call dies); the first page's document stays,
    and the next run, reading from the start again, adds only the missing one."""
    with server(document("F-11"), document("F-12")) as wopen:
        connection = wopen_connection(demo.company, wopen.url, auto_stamp=False, page_size=1)
        wopen.faults = [None, "500", "500"]  # first read fine, the second fails on every attempt
        failed = run_now(connection)
        assert failed.result == "failed"
        assert list(WopenDocument.objects.values_list("wopen_id", flat=True)) == ["F-11"]
        Connection.objects.filter(pk=connection.pk).update(cursor="")
        resumed = run_now(Connection.objects.get(pk=connection.pk))
    assert (resumed.created, resumed.unchanged) == (1, 1)
    assert sorted(WopenDocument.objects.values_list("wopen_id", flat=True)) == ["F-11", "F-12"]
    assert SalesDocument.objects.filter(wopen_link__isnull=False).count() == 2


def test_the_external_key_is_unique_in_the_database(demo):
    with server(document("F-13"), document("P-13", kind="pedido")) as wopen:
        run_now(wopen_connection(demo.company, wopen.url, auto_stamp=False))
    assert WopenDocument.objects.filter(wopen_id="F-13").exists()
    other = WopenDocument.objects.get(wopen_id="P-13").document
    with pytest.raises(IntegrityError), transaction.atomic():
        WopenDocument.objects.create(
            company=demo.company, wopen_kind="factura", wopen_id="F-13", document=other
        )


# --- failures are events, the run goes on ------------------------------------------------------


def test_invalid_rfc_and_missing_stock_are_events_with_the_wopen_id_and_the_run_goes_on(demo):
    bad_rfc = document("F-20", cliente=customer("XYZ12345"))
    no_stock = document("F-21", lines=[line("A", "5", "11.50")])  # the demo has no stock of A
    good = document("P-22", kind="pedido")
    with server(bad_rfc, no_stock, good) as wopen:
        run = run_now(wopen_connection(demo.company, wopen.url))
    assert (run.result, run.created, run.failed) == ("partial", 1, 2), messages(run)  # F-21: a draft, failed
    events = {key: (level, message) for level, key, message in messages(run) if key}
    assert events["F-20"][0] == "error" and "XYZ12345" in events["F-20"][1]
    assert events["F-21"][0] == "error" and "Queda como borrador" in events["F-21"][1]
    assert "existencia" in events["F-21"][1].lower() or "inventario" in events["F-21"][1].lower()
    assert events["P-22"][0] == "info"
    draft = WopenDocument.objects.get(wopen_id="F-21").document
    assert (draft.status, draft.number) == ("draft", None)
    assert not WopenDocument.objects.filter(wopen_id="F-20").exists()
    assert not Customer.objects.filter(rfc="XYZ12345").exists()


def test_a_wrong_password_is_a_failed_run_with_a_clear_event(demo):
    with server(document("F-30")) as wopen:
        connection = wopen_connection(demo.company, wopen.url, password="otra")  # saved: not checked
        run = run_now(connection)
    assert run.result == "failed"
    assert messages(run) == [
        (
            "error",
            "",
            "CONTPAQi Wopen rechazó el usuario o la contraseña de la conexión (HTTP 401). "
            "Revise la URL, el usuario y la contraseña.",
        )
    ]
    assert not WopenDocument.objects.exists()


# --- the connection's rules ------------------------------------------------------------------------


def test_one_wopen_url_belongs_to_one_company(demo):
    wopen_connection(demo.company, "https://wopen.example.mx/empresa")
    other = CompanyFactory(rfc="AAA010101AAA", legal_name="EMPRESA AJENA SA DE CV", postal_code="06000")
    sales_entity(other, code="PACHUCA")
    with pytest.raises(ValidationError) as error:
        wopen_connection(other, "HTTPS://wopen.example.mx/empresa/")
    assert URL_TAKEN in error.value.message_dict["options"]
    assert Connection.objects.filter(company=other).count() == 0
    # the same company may keep it (a second connection, or saving the first again)
    assert wopen_connection(demo.company, "https://wopen.example.mx/empresa", name="Wopen 2").pk


def test_options_are_validated_with_spanish_messages_and_credentials_are_not_checked(demo):
    with pytest.raises(ValidationError) as error:
        wopen_connection(demo.company, "ftp://x", entity="NO", clave_prod_serv="72151500", page_size=0)
    found = error.value.message_dict["options"]
    assert "Indique la URL de CONTPAQi Wopen (http o https)." in found
    assert "La entidad de venta «NO» no existe en la empresa." in found
    assert "Indique la Clave Prod/Serv y la Clave Unidad predeterminadas, o ninguna de las dos." in found
    assert not Connection.objects.exists()
    saved = wopen_connection(demo.company, "http://127.0.0.1:9", password="cualquiera")
    assert saved.options["orders"] is True and saved.options["invoices"] is True
    assert saved.credentials == "cualquiera"


def test_orders_switched_off_are_not_brought_in(demo):
    with server(document("P-40", kind="pedido"), document("F-40")) as wopen:
        run = run_now(wopen_connection(demo.company, wopen.url, orders=False, auto_stamp=False))
    assert list(WopenDocument.objects.values_list("wopen_id", flat=True)) == ["F-40"]
    assert run.created == 1


def test_stamping_reports_on_a_later_run_when_the_stamp_came_after(demo, django_capture_on_commit_callbacks):
    """With a real worker the stamp follows the run: the next run reports it."""
    with server(document("F-50")) as wopen:
        connection = wopen_connection(demo.company, wopen.url)
        with django_capture_on_commit_callbacks(execute=True):
            first = run_now(connection)  # the seal runs after this test's "commit"
        assert wopen.source.reports == {}
        second = run_now(Connection.objects.get(pk=connection.pk))
        report = wopen.source.reports["F-50"]
    cfdi = CfdiDocument.objects.get(status="stamped")
    root = etree.fromstring(bytes(cfdi.xml))
    assert report["uuid"] == root.find(f"{CFDI}Complemento/{TFD}TimbreFiscalDigital").get("UUID").upper()
    assert (first.created, second.updated, second.created) == (1, 1, 0)


# --- admin, sync screen, API, demo -------------------------------------------------------------


def admin_form(company, url, **overrides):
    data = {
        "company": company.pk, "kind": "wopen", "name": "Wopen", "enabled": "on", "period_minutes": 15,
        "options": "{}", "new_credentials": PASSWORD, "wopen_orders": "on", "wopen_invoices": "on",
        "wopen_entity": "PACHUCA", "wopen_auto_stamp": "on", "wopen_clave_prod_serv": "72151500",
        "wopen_clave_unidad": "E48", "wopen_url": url, "wopen_user": USER,
    }  # fmt: skip
    data.update(overrides)
    return data


def test_the_admin_has_the_seeds_wopen_screen_and_its_events_button(demo):
    accountant = user_with_role(demo.company, Role.ACCOUNTANT)
    client = Client()
    client.force_login(accountant)
    response = client.post(
        "/admin/sync/connection/add/", admin_form(demo.company, "https://wopen.example.mx/a")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    connection = Connection.objects.get()
    assert connection.options["auto_stamp"] is True and connection.options["orders"] is True
    assert (connection.options["entity"], connection.options["clave_unidad"], connection.credentials) == (
        "PACHUCA",
        "E48",
        PASSWORD,
    )
    page = client.get(f"/admin/sync/connection/{connection.pk}/change/").content.decode()
    for label in ("Sincronización Pedidos", "Sincronización Facturas", "Sucursal", "Timbrado de factura automática",
                  "Clave Prod/Serv", "Clave Unidad", "Usuario", "Visor de eventos"):  # fmt: skip
        assert label in page, label
    assert viewer_url(connection) in page.replace("&amp;", "&")
    assert f"?connection={connection.pk}&since={default_since().isoformat()}" in viewer_url(connection)
    assert PASSWORD not in page

    # another company, the same URL: refused with the message, nothing saved
    other = CompanyFactory(rfc="AAA010101AAA", legal_name="EMPRESA AJENA SA DE CV", postal_code="06000")
    sales_entity(other, code="PACHUCA")
    grant_membership(user=accountant, company=other, role=Role.ACCOUNTANT)
    refused = client.post("/admin/sync/connection/add/", admin_form(other, "https://wopen.example.mx/a/"))
    assert refused.status_code == 200 and URL_TAKEN in refused.content.decode()
    assert Connection.objects.count() == 1


def test_the_api_creates_a_wopen_connection_and_refuses_a_second_company_with_the_same_url(demo, api_as):
    accountant = user_with_role(demo.company, Role.ACCOUNTANT)
    client = api_as(accountant)
    body = {
        "company": demo.company.pk, "kind": "wopen", "name": "Wopen", "period_minutes": 30,
        "options": {"base_url": "https://wopen.example.mx/a", "user": USER, "entity": "PACHUCA"},
        "credentials": PASSWORD,
    }  # fmt: skip
    created = client.post("/api/sync/connections/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["options"]["auto_stamp"] is False and "credentials" not in created.json()
    listed = client.get("/api/sync/connections/", {"kind": "wopen"}).json()
    assert [c["id"] for c in listed["results"]] == [created.json()["id"]]

    other = CompanyFactory(rfc="AAA010101AAA", legal_name="EMPRESA AJENA SA DE CV", postal_code="06000")
    sales_entity(other, code="PACHUCA")
    grant_membership(user=accountant, company=other, role=Role.ACCOUNTANT)
    refused = client.post("/api/sync/connections/", {**body, "company": other.pk}, format="json")
    assert refused.status_code == 400
    assert URL_TAKEN in str(refused.json())
    assert not Connection.objects.filter(company=other).exists()


def test_the_viewer_has_a_visor_de_eventos_link_per_connection(demo):
    with server(document("P-60", kind="pedido")) as wopen:
        connection = wopen_connection(demo.company, wopen.url)
        run_now(connection)
    ops = Client()
    assert ops.login(username="operaciones", password=DEMO_PASSWORD)
    page = ops.get("/sync/eventos/").content.decode().replace("&amp;", "&")
    assert f'href="{viewer_url(connection)}">Visor de eventos' in page
    filtered = ops.get(viewer_url(connection)).content.decode()
    assert "Pedido Wopen P-60 recibido" in filtered


def test_the_demo_wopen_connection_shows_an_order_and_an_invoice_arriving(
    settings, demo, django_capture_on_commit_callbacks
):
    settings.SYNC_DEMO_SOURCE = True
    with django_capture_on_commit_callbacks(execute=True):
        connection = load_wopen_demo(demo.company)
    run = Run.objects.get(connection=connection)
    assert (run.result, run.created, run.failed) == ("success", 2, 0), messages(run)
    assert connection.options["base_url"] == "http://127.0.0.1:8000/sync/demo-wopen"
    ops = Client()
    assert ops.login(username="operaciones", password=DEMO_PASSWORD)
    page = ops.get(viewer_url(connection)).content.decode()
    assert "Pedido Wopen P-1001 recibido como pedido" in page
    assert "Factura Wopen F-2001 agregada como factura" in page
    invoice = WopenDocument.objects.get(wopen_id="F-2001").document
    assert CfdiDocument.objects.get(source_id=invoice.pk).status == "stamped"  # stamped after commit
    # the built-in source is also served by the project's own server, reports included
    auth = "Basic " + base64.b64encode(f"{DEMO_USER}:{DEMO_WOPEN_PASSWORD}".encode()).decode()
    client = Client()
    reply = client.get("/sync/demo-wopen/api/v1/documentos", {"limite": 1}, HTTP_AUTHORIZATION=auth)
    assert reply.json()["hay_mas"] is True and [d["id"] for d in reply.json()["documentos"]] == ["P-1001"]
    assert client.get("/sync/demo-wopen/api/v1/documentos").status_code == 401
    report = client.post(
        "/sync/demo-wopen/api/v1/facturas/F-2001/timbre",
        {"uuid": "X"},
        "application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert report.status_code == 200
    # "Sincronizar ahora" against the demo source: the stamp is reported, nothing new comes in
    with WopenSourceServer(WopenSource(DEMO_DOCUMENTS)) as wopen:
        Connection.objects.filter(pk=connection.pk).update(
            options={**connection.options, "base_url": wopen.url}
        )
        again = run_now(Connection.objects.get(pk=connection.pk))
        assert wopen.source.reports["F-2001"]["uuid"]
    assert (again.created, again.updated) == (0, 1)
    assert load_wopen_demo(demo.company).pk == connection.pk  # loading twice is safe
    assert WopenDocument.objects.count() == 2
