"""The Aspel SAE connector against a real Firebird server on 127.0.0.1:3050 holding a database
with SAE's layout (``tests/factories_sae.py``), run through the sync engine."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from firebird.driver import DatabaseError

from erp import taxes
from erp.models import Currency, ExchangeRate
from inventory.models import Product, ProductLine, StockLevel, StockMovement, StockMovementEvent
from sales.models import Customer
from sync.connectors import sae_layout as L
from sync.connectors.sae import SaeConnector
from sync.engine import NO_CHANGES, execute_run
from sync.models import Event, Run
from tests.factories import CustomerFactory, ProductFactory, WarehouseFactory, set_all_variables
from tests.factories_sae import customer, drop, new_sae_database, product, sae_connection

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0.01
    settings.SYNC_SOURCE_ATTEMPTS = 2


@pytest.fixture
def sae():
    db = new_sae_database()
    yield db
    drop(db)


def run_now(connection) -> Run:
    run = Run.objects.create(company=connection.company, connection=connection, trigger=Run.Trigger.MANUAL)
    return execute_run(run_id=run.pk)


def messages(run, level=None) -> list[str]:
    events = Event.objects.filter(run=run).order_by("pk")
    if level:
        events = events.filter(level=level)
    return list(events.values_list("message", flat=True))


def catalog_snapshot(company) -> list:
    return [
        list(ProductLine.objects.filter(company=company).order_by("code").values_list("code", "name")),
        list(
            Product.objects.filter(company=company)
            .order_by("code")
            .values_list("code", "description", "line__code", "unit", "iva_treatment", "ieps_rate", "active")
        ),
        list(
            Customer.objects.filter(company=company)
            .order_by("pk")
            .values_list("external_key", "rfc", "name", "regimen_fiscal", "postal_code", "active")
        ),
        list(
            StockLevel.objects.filter(company=company).order_by("pk").values_list("quantity", "average_cost")
        ),
        StockMovement.objects.filter(company=company).count(),
        list(ExchangeRate.objects.filter(company=company).values_list("currency__code", "rate")),
    ]


def stock_company(company, *, linked=True):
    """The company with "Cambio a existencia" on and the two SAE warehouses as ours."""
    company.stock_change_from_sync = True
    company.save(update_fields=["stock_change_from_sync"])
    accounts = set_all_variables(company)
    matriz = WarehouseFactory(
        company=company,
        code="1",
        linked_to_accounting=linked,
        inventory_account=accounts["ALM_INVENTARIO"] if linked else None,
    )
    sucursal = WarehouseFactory(company=company, code="2")
    return matriz, sucursal


def level(warehouse, code) -> D | None:
    found = StockLevel.objects.filter(warehouse=warehouse, product__code=code).first()
    return found.quantity if found else None


# --- the first run and the second --------------------------------------------------------------


def test_first_run_imports_lines_products_customers_currencies_and_tax_schemes(company, sae):
    connection = sae_connection(company, sae)
    run = run_now(connection)
    assert run.result == Run.Result.SUCCESS, messages(run)
    assert dict(ProductLine.objects.filter(company=company).values_list("code", "name")) == {
        "ABAR": "Abarrotes",
        "BEB": "Bebidas",
    }
    products = {p.code: p for p in Product.objects.filter(company=company).select_related("line")}
    assert set(products) == {"A001", "B001", "C001", "S001"}
    rice = products["A001"]
    assert (rice.description, rice.line.code, rice.unit, rice.sat_product_key, rice.sat_unit_key) == (
        "ARROZ SUPER EXTRA 1 KG", "ABAR", "KG", "50221200", "KGM",
    )  # fmt: skip
    assert (rice.iva_treatment, rice.external_key) == (taxes.IVA_ZERO, "A001")
    assert (products["B001"].iva_treatment, products["B001"].ieps_rate) == (taxes.IVA_TAXED, D("8"))
    assert products["C001"].iva_treatment == taxes.IVA_EXEMPT
    assert products["S001"].is_service and products["S001"].line is None
    customers = {c.external_key: c for c in Customer.objects.filter(company=company).exclude(number=0)}
    assert set(customers) == {"1", "2", "3"}
    assert (customers["2"].rfc, customers["2"].regimen_fiscal, customers["2"].name) == (
        "CACX7605101P8", "612", "XOCHILT CASAS CHAVEZ",
    )  # fmt: skip
    assert customers["1"].address == "AV. JUAREZ 10" and customers["1"].credit_days == 30
    assert ExchangeRate.objects.get(company=company, currency__code="USD").rate == D("17.25")
    # "Cambio a existencia" is off: stock is not touched, and the run says why
    assert not StockMovement.objects.exists()
    assert any("«Cambio a existencia»" in m for m in messages(run, "warning"))


def test_second_run_with_no_change_at_sae_changes_nothing_and_says_sin_cambios(company, sae):
    stock_company(company)
    connection = sae_connection(company, sae)
    first = run_now(connection)
    assert first.result == Run.Result.SUCCESS, messages(first)
    before = catalog_snapshot(company)
    second = run_now(connection)
    assert (second.result, second.message) == (Run.Result.SUCCESS, NO_CHANGES)
    assert second.created + second.updated + second.deactivated + second.failed == 0
    assert second.unchanged > 0
    assert catalog_snapshot(company) == before


def test_a_change_at_sae_updates_only_what_changed(company, sae):
    connection = sae_connection(company, sae)
    run_now(connection)
    sae.update(L.PRODUCTS, "CVE_ART", "A001", DESCR="ARROZ MORELOS 1 KG")
    sae.update(L.CUSTOMERS, "CLAVE", "3".rjust(10), CODIGO="01160", NOMBRE="UNIVERSIDAD ROBOTICA")
    run = run_now(connection)
    assert (run.created, run.updated, run.failed) == (0, 2, 0)
    assert Product.objects.get(code="A001").description == "ARROZ MORELOS 1 KG"
    assert Customer.objects.get(external_key="3").postal_code == "01160"


# --- stock ------------------------------------------------------------------------------------


def test_stock_differences_become_audited_adjustments_with_their_cost_entry(company, sae):
    matriz, sucursal = stock_company(company)
    connection = sae_connection(company, sae)
    run = run_now(connection)
    assert run.result == Run.Result.SUCCESS, messages(run)
    assert (level(matriz, "A001"), level(matriz, "B001"), level(sucursal, "A001"), level(sucursal, "C001")) == (
        D("10"), D("24"), D("5"), D("3"),
    )  # fmt: skip
    assert level(matriz, "S001") is None  # a service carries no stock
    entry = StockMovement.objects.get(warehouse=matriz)
    assert entry.kind == StockMovement.Kind.ENTRY and entry.status == StockMovement.Status.AUDITED
    assert entry.origin == f"SAE|{run.pk}|{connection.pk}||" and f"#{run.pk}" in entry.concept
    assert entry.total_cost == D("10") * D("20.5") + D("24") * D("8")
    assert entry.journal_entry is not None  # the linked warehouse posts its cost póliza
    assert StockMovement.objects.get(warehouse=sucursal).journal_entry is None  # not linked
    assert list(entry.events.values_list("action", flat=True)) == [
        StockMovementEvent.Action.CREATED,
        StockMovementEvent.Action.AUDITED,
    ]
    assert StockLevel.objects.get(warehouse=matriz, product__code="A001").average_cost == D("20.5")
    # SAE sold 4 kg of rice: an exit at the average cost, never a write of the level
    sae.update(L.STOCK, "CVE_ART", "A001", EXIST=6)  # both warehouses now hold 6
    second = run_now(connection)
    assert level(matriz, "A001") == D("6") and level(sucursal, "A001") == D("6")
    exit_ = StockMovement.objects.get(warehouse=matriz, kind=StockMovement.Kind.EXIT)
    assert exit_.status == StockMovement.Status.AUDITED and exit_.origin.startswith(f"SAE|{second.pk}|")
    assert exit_.total_cost == D("4") * D("20.5") and exit_.journal_entry is not None
    assert StockMovement.objects.get(
        warehouse=sucursal, kind=StockMovement.Kind.ENTRY, origin__contains=f"|{second.pk}|"
    )


def test_only_the_chosen_warehouse_is_synchronised(company, sae):
    matriz, sucursal = stock_company(company)
    run_now(sae_connection(company, sae, warehouse=2))
    assert level(sucursal, "A001") == D("5") and level(sucursal, "C001") == D("3")
    assert not StockLevel.objects.filter(warehouse=matriz).exists()


def test_stock_option_off_leaves_stock_alone_even_with_cambio_a_existencia(company, sae):
    stock_company(company)
    run = run_now(sae_connection(company, sae, sync_stock=False))
    assert run.result == Run.Result.SUCCESS
    assert not StockMovement.objects.exists() and not StockLevel.objects.exists()


def test_a_sae_warehouse_without_ours_is_a_warning_and_the_rest_syncs(company, sae):
    company.stock_change_from_sync = True
    company.save()
    sucursal = WarehouseFactory(company=company, code="2")
    run = run_now(sae_connection(company, sae))
    assert level(sucursal, "A001") == D("5")
    assert any(
        "El almacén 1 de Aspel SAE (Matriz) no tiene una bodega" in m for m in messages(run, "warning")
    )


# --- deactivation -----------------------------------------------------------------------------


def test_products_missing_in_sae_stay_active_by_default(company, sae):
    connection = sae_connection(company, sae)
    assert connection.options["deactivate_missing_products"] is False
    typed_here = ProductFactory(company=company, code="LOCAL1")
    run_now(connection)
    sae.delete(L.PRODUCTS, "CVE_ART", "C001")
    run = run_now(connection)
    assert run.deactivated == 0
    assert Product.objects.get(code="C001").active and Product.objects.get(pk=typed_here.pk).active


def test_products_missing_in_sae_become_inactive_when_the_option_is_on(company, sae):
    connection = sae_connection(company, sae, deactivate_missing_products=True)
    typed_here = ProductFactory(company=company, code="LOCAL1")
    run_now(connection)
    sae.delete(L.PRODUCTS, "CVE_ART", "C001")
    run = run_now(connection)
    assert not Product.objects.get(code="C001").active
    assert not Product.objects.get(pk=typed_here.pk).active
    assert Product.objects.get(code="A001").active
    assert run.deactivated == 1  # LOCAL1 went inactive in the first run
    assert "Producto C001 desactivado: no existe en Aspel SAE." in messages(run)


def test_customers_deleted_in_sae_become_inactive_by_default_only_those_with_the_sae_key(company, sae):
    connection = sae_connection(company, sae)
    assert connection.options["deactivate_deleted_customers"] is True
    entity = connection.options["entity"]
    run_now(connection)
    typed_here = CustomerFactory(entity=Customer.objects.get(external_key="1").entity, number=50)
    sae.delete(L.CUSTOMERS, "CLAVE", "2".rjust(10))
    sae.update(L.CUSTOMERS, "CLAVE", "3".rjust(10), STATUS="B")  # baja in SAE
    run = run_now(connection)
    assert run.deactivated == 2, messages(run)
    assert not Customer.objects.get(external_key="2").active
    assert not Customer.objects.get(external_key="3").active
    assert Customer.objects.get(external_key="1").active
    assert Customer.objects.get(pk=typed_here.pk).active  # created here: never touched
    assert Customer.objects.get(entity__code=entity, number=0).active  # the counter customer neither


def test_customers_deleted_in_sae_stay_active_when_the_option_is_off(company, sae):
    connection = sae_connection(company, sae, deactivate_deleted_customers=False)
    run_now(connection)
    sae.delete(L.CUSTOMERS, "CLAVE", "2".rjust(10))
    run = run_now(connection)
    assert run.deactivated == 0 and Customer.objects.get(external_key="2").active


def test_deleted_and_missing_keys_are_asked_to_sae_in_several_calls_in_either_form(company, sae, monkeypatch):
    """SAE is asked which of our keys it still has in calls of a fixed number of keys (here 2 a
    call, so 4 customers and 5 products take several); a key SAE stores as typed (left-aligned,
    not right-aligned in its 10 characters) is found too."""
    monkeypatch.setattr(L, "KEYS_PARAMETER", 2 * L.PRODUCT_KEY_WIDTH)
    sae.insert(L.CUSTOMERS, [customer("C-7", "MAS0810247C0", CLAVE="C-7")])  # stored as typed
    sae.insert(L.PRODUCTS, [product("D001")])
    connection = sae_connection(company, sae, deactivate_missing_products=True)
    first = run_now(connection)
    assert first.result == Run.Result.SUCCESS, messages(first)
    assert Customer.objects.get(external_key="C-7").active
    sae.delete(L.CUSTOMERS, "CLAVE", "1".rjust(10))
    sae.delete(L.PRODUCTS, "CVE_ART", "D001")
    run = run_now(connection)
    assert run.deactivated == 2, messages(run)
    assert not Customer.objects.get(external_key="1").active
    assert not Product.objects.get(code="D001").active
    alive = ["2", "3", "C-7"]
    assert all(Customer.objects.get(external_key=key).active for key in alive)
    assert all(Product.objects.get(code=code).active for code in ["A001", "B001", "C001", "S001"])


# --- the general options ------------------------------------------------------------------------


def test_general_options_off_import_nothing_of_their_kind(company, sae):
    usd_before = Currency.objects.filter(code="USD").count()
    run = run_now(
        sae_connection(
            company,
            sae,
            import_customers=False,
            import_currencies=False,
            import_tax_schemes=False,
            entity=None,
        )
    )
    assert run.result == Run.Result.SUCCESS, messages(run)
    assert not Customer.objects.filter(company=company).exists()
    assert not ExchangeRate.objects.exists() and Currency.objects.filter(code="USD").count() == usd_before
    # without the schemes, new products take the default treatment; nothing follows SAE's schemes
    assert set(Product.objects.values_list("iva_treatment", flat=True)) == {taxes.IVA_TAXED}


def test_products_off_imports_no_lines_nor_products(company, sae):
    run = run_now(sae_connection(company, sae, import_products=False))
    assert run.result == Run.Result.SUCCESS
    assert not Product.objects.exists() and not ProductLine.objects.exists()
    assert Customer.objects.filter(company=company).exclude(external_key="").count() == 3


# --- bad records: skipped with an event, the rest written ---------------------------------------


def test_unknown_line_invalid_rfc_and_unmappable_scheme_are_skipped_with_spanish_events(company, sae):
    sae.insert(L.PRODUCTS, [product("D001", LIN_PROD="ZZZ"), product("E001", CVE_ESQIMPU=5)])
    sae.insert(L.CUSTOMERS, [customer(4, "XYZ123")])
    run = run_now(sae_connection(company, sae))
    assert run.result == Run.Result.PARTIAL and run.failed == 3
    errors = messages(run, "error")
    assert "Producto D001 no sincronizado: su línea «ZZZ» no existe en Aspel SAE." in errors
    assert any(
        m.startswith("Producto E001 no sincronizado: El esquema de impuestos 5 tiene IVA de 11%")
        for m in errors
    )
    assert any(m.startswith("Cliente 4 (XYZ123) no sincronizado:") and "RFC" in m for m in errors)
    assert not Product.objects.filter(code__in=["D001", "E001"]).exists()
    assert not Customer.objects.filter(external_key="4").exists()
    assert Product.objects.filter(code="A001").exists() and Customer.objects.filter(external_key="1").exists()


# --- faults: the run fails in Spanish and nothing is written -----------------------------------


def assert_nothing_written(company):
    assert not Product.objects.exists() and not ProductLine.objects.exists()
    assert not Customer.objects.filter(company=company).exclude(external_key="").exists()
    assert not ExchangeRate.objects.exists()


def test_server_down_fails_the_run_after_retrying(company, sae):
    connection = sae_connection(company, sae, port=3059)
    run = run_now(connection)
    assert run.result == Run.Result.FAILED
    assert "No se pudo conectar con el servidor Firebird de Aspel SAE en 127.0.0.1:3059." in run.message
    assert any("Se reintenta" in m for m in messages(run, "warning"))
    assert_nothing_written(company)


def test_wrong_password_is_refused_at_once(company, sae):
    run = run_now(sae_connection(company, sae, password="equivocada"))
    assert run.result == Run.Result.FAILED
    assert run.message == "El servidor Firebird de Aspel SAE rechazó el usuario «SYSDBA» o su contraseña."
    assert not any("Se reintenta" in m for m in messages(run))
    assert_nothing_written(company)


def test_database_without_sae_tables_is_refused(company):
    db = new_sae_database(with_tables=False)
    try:
        run = run_now(sae_connection(company, db))
    finally:
        drop(db)
    assert run.result == Run.Result.FAILED
    assert run.message.startswith("La base de datos no tiene las tablas de Aspel SAE")
    assert_nothing_written(company)


def test_company_number_without_tables_is_refused(company, sae):
    run = run_now(sae_connection(company, sae, company_number=2))
    assert run.result == Run.Result.FAILED
    assert run.message.startswith(
        "La empresa 02 no existe en la base de Aspel SAE: faltan sus tablas (INVE02"
    )
    assert_nothing_written(company)


def test_another_company_number_reads_its_own_tables(company, sae):
    sae.add_company(2)
    run = run_now(sae_connection(company, sae, company_number=2))
    assert run.result == Run.Result.SUCCESS and run.message == NO_CHANGES  # company 02 is empty
    assert_nothing_written(company)


def test_a_chosen_warehouse_sae_does_not_have_is_refused(company, sae):
    stock_company(company)
    run = run_now(sae_connection(company, sae, warehouse=7))
    assert (run.result, run.message) == (
        Run.Result.FAILED,
        "El almacén 7 no existe en Aspel SAE (empresa 01).",
    )
    assert_nothing_written(company)


def test_the_connection_to_sae_is_read_only(company, sae):
    connection = sae_connection(company, sae)
    run_now(connection)
    connection.refresh_from_db()
    connector = SaeConnector(connection)
    try:
        connector.read_page("")
        with pytest.raises(DatabaseError, match="read-only"), connector._open().cursor() as cursor:
            cursor.execute("DELETE FROM INVE01")
    finally:
        connector.close()
    # and SAE still has what it had
    again = SaeConnector(connection)
    try:
        assert len(again._query("SELECT CVE_ART FROM INVE01")) == 4
    finally:
        again.close()


# --- options validation ---------------------------------------------------------------------------


def test_options_are_validated_in_spanish(company, sae):
    with pytest.raises(ValidationError) as error:
        sae_connection(company, sae, company_number=0, port="x", warehouse="central", sync_stock="si")
    errors = error.value.message_dict["options"]
    assert "El número de empresa de SAE debe estar entre 1 y 99." in errors
    assert "El almacén de SAE es un número (1, 2, …) o vacío para todos." in errors
    assert "La opción «sync_stock» debe ser verdadero o falso." in errors


def test_defaults_follow_the_seed(company, sae):
    options = sae_connection(company, sae).options
    assert options["deactivate_missing_products"] is False
    assert options["deactivate_deleted_customers"] is True
    assert all(
        options[k] for k in ("import_products", "import_customers", "import_currencies", "import_tax_schemes")
    )
    assert options["warehouse"] == "" and options["sync_stock"] is True


# --- after the first import, what SAE owns is read-only in the admin ------------------------------


def test_sae_owned_fields_are_read_only_in_the_admin_after_the_import(company, sae, accountant):
    from django.test import Client

    run_now(sae_connection(company, sae))
    typed_here = ProductFactory(company=company, code="LOCAL1")
    client = Client()
    client.force_login(accountant)
    rice = Product.objects.get(code="A001")
    page = client.get(f"/admin/inventory/product/{rice.pk}/change/").content.decode()
    assert "Este registro viene de Aspel SAE" in page
    assert 'name="description"' not in page and 'name="list_price"' in page  # price is ours
    # a post cannot change what SAE owns
    client.post(
        f"/admin/inventory/product/{rice.pk}/change/",
        {"company": company.pk, "code": "A001", "description": "CAMBIADO AQUI", "list_price": "15",
         "tax_operation": "general", "ieps_quota": "0", "retained_iva_rate": "0", "retained_isr_rate": "0",
         "external_key": "A001"},
    )  # fmt: skip
    rice.refresh_from_db()
    assert rice.description == "ARROZ SUPER EXTRA 1 KG"
    local = client.get(f"/admin/inventory/product/{typed_here.pk}/change/").content.decode()
    assert 'name="description"' in local and "Este registro viene de Aspel SAE" not in local
    sae_customer = Customer.objects.get(external_key="1")
    page = client.get(f"/admin/sales/customer/{sae_customer.pk}/change/").content.decode()
    assert "Este registro viene de Aspel SAE" in page and 'name="rfc"' not in page


def test_accountant_configures_a_sae_connection_through_the_api(company, sae, accountant, api_as):
    from tests.factories import sales_entity

    sales_entity(company, no_stock_movements=True, warehouse=None)
    client = api_as(accountant)
    body = {
        "company": company.pk, "kind": "sae", "name": "SAE matriz", "enabled": True, "period_minutes": 60,
        "options": {**sae.options(), "entity": "MTY", "warehouse": 2}, "credentials": sae.password,
    }  # fmt: skip
    response = client.post("/api/sync/connections/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["options"]["deactivate_deleted_customers"] is True
    assert sae.password not in response.content.decode()
    bad = client.post(
        "/api/sync/connections/", {**body, "name": "otra", "options": {**body["options"], "company_number": 100}},
        format="json",
    )  # fmt: skip
    assert bad.status_code == 400
    assert "El número de empresa de SAE debe estar entre 1 y 99." in bad.content.decode()


def test_the_api_refuses_changes_to_what_sae_owns_and_accepts_the_rest(company, sae, accountant, api_as):
    run_now(sae_connection(company, sae))
    rice = Product.objects.get(code="A001")
    client = api_as(accountant)
    refused = client.patch(
        f"/api/inventory/products/{rice.pk}/", {"description": "CAMBIADO AQUI"}, format="json"
    )
    assert refused.status_code == 400
    assert "Este dato lo administra Aspel SAE" in refused.content.decode()
    rice.refresh_from_db()
    assert rice.description == "ARROZ SUPER EXTRA 1 KG"
    accepted = client.patch(f"/api/inventory/products/{rice.pk}/", {"list_price": "15.50"}, format="json")
    assert accepted.status_code == 200, accepted.json()
    customer_row = Customer.objects.get(external_key="2")
    refused = client.patch(f"/api/sales/customers/{customer_row.pk}/", {"rfc": "URE180429TM6"}, format="json")
    assert refused.status_code == 400 and "Aspel SAE" in refused.content.decode()
