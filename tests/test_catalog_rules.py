"""Model rules of the catalogs, through the API where a user meets them."""

import pytest
from django.core.exceptions import ValidationError

from accounting.models import AccountingVariable
from cashbank.models import CashBankAccount
from erp.fields import decrypt_bytes
from erp.models import Role
from erp.services import save_catalog_row
from inventory.models import Product, Warehouse
from sales.models import Customer, SalesEntity
from tests.factories import AccountFactory, CustomerFactory, ProductFactory, sales_entity, user_with_role

pytestmark = pytest.mark.django_db


def test_new_entity_comes_with_its_counter_customer(company, accountant, api_as):
    warehouse = Warehouse.objects.create(
        company=company, code="ALM", short_name="Almacén", linked_to_accounting=False
    )
    response = api_as(accountant).post(
        "/api/sales/entities/",
        {"company": company.pk, "code": "PACH", "name": "Pachuca", "series": "A", "warehouse": warehouse.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    counter = Customer.objects.get(entity_id=response.json()["id"], number=0)
    assert (counter.rfc, counter.name, counter.regimen_fiscal, counter.uso_cfdi) == (
        "XAXX010101000",
        "PUBLICO EN GENERAL",
        "616",
        "S01",
    )
    assert counter.postal_code == company.postal_code


def test_entity_without_warehouse_needs_no_stock_movements(company, accountant, api_as):
    response = api_as(accountant).post(
        "/api/sales/entities/", {"company": company.pk, "code": "X", "name": "Sin bodega"}, format="json"
    )
    assert response.status_code == 400
    assert "no maneja movimientos al almacén" in response.json()["message"]
    assert not SalesEntity.objects.exists()


def test_counter_customer_keeps_the_generic_rfc(company):
    counter = Customer.objects.get(entity=sales_entity(company), number=0)
    counter.rfc = "URE180429TM6"
    with pytest.raises(ValidationError, match="RFC genérico"):
        counter.full_clean()


def test_generic_rfc_requires_regimen_616_and_uso_s01(company):
    customer = CustomerFactory.build(entity=sales_entity(company), rfc="XEXX010101000", regimen_fiscal="601")
    with pytest.raises(ValidationError, match="616"):
        customer.full_clean()


def test_linked_warehouse_needs_a_postable_inventory_account(company, accountant, api_as):
    summary = AccountFactory(company=company, postable=False)
    client = api_as(accountant)
    payload = {"company": company.pk, "code": "ALM", "short_name": "Almacén", "linked_to_accounting": True}

    missing = client.post("/api/inventory/warehouses/", payload, format="json")
    not_postable = client.post(
        "/api/inventory/warehouses/", {**payload, "inventory_account": summary.pk}, format="json"
    )

    assert missing.status_code == 400 and "cuenta de inventario" in missing.json()["message"]
    assert not_postable.status_code == 400 and "afectable" in not_postable.json()["message"]
    assert not Warehouse.objects.exists()


def test_variable_must_point_to_a_postable_account_of_the_company(company, other_company):
    foreign = AccountFactory(company=other_company)
    variable = AccountingVariable(company=company, name="CC_VENNP", account=foreign)
    with pytest.raises(ValidationError, match="otra empresa"):
        save_catalog_row(instance=variable)
    assert not AccountingVariable.objects.exists()


def test_another_companys_rows_cannot_be_referenced(company, other_company, accountant, api_as):
    foreign_account = AccountFactory(company=other_company)
    response = api_as(accountant).post(
        "/api/cashbank/accounts/",
        {
            "company": company.pk,
            "code": "CAJA",
            "name": "Caja",
            "kind": "cash",
            "currency": 1,
            "linked_to_accounting": True,
            "ledger_account": foreign_account.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "ledger_account" in response.json()["details"]
    assert not CashBankAccount.objects.exists()


def test_cannot_create_rows_in_a_company_without_a_role(company, other_company, accountant, api_as):
    response = api_as(accountant).post(
        "/api/inventory/product-lines/",
        {"company": other_company.pk, "code": "L", "name": "Línea"},
        format="json",
    )
    assert response.status_code == 400
    assert "company" in response.json()["details"]


def test_company_cannot_be_moved_by_update(company, other_company, api_as):
    user = user_with_role(company, Role.ACCOUNTANT)
    user_with_role(other_company, Role.ACCOUNTANT, username=user.username)
    product = ProductFactory(company=company)
    response = api_as(user).patch(
        f"/api/inventory/products/{product.pk}/", {"company": other_company.pk}, format="json"
    )
    assert response.status_code == 400
    product.refresh_from_db()
    assert product.company == company


def test_integrator_maintains_products_but_ops_only_reads(company, integrator, ops, api_as):
    payload = {
        "company": company.pk,
        "code": "NEW",
        "description": "Nuevo",
        "unit": "PZA",
        "sat_product_key": "01010101",
        "sat_unit_key": "H87",
        "list_price": "5.00",
    }
    assert api_as(integrator).post("/api/inventory/products/", payload, format="json").status_code == 201
    assert (
        api_as(ops).post("/api/inventory/products/", {**payload, "code": "N2"}, format="json").status_code
        == 403
    )
    assert api_as(ops).get("/api/inventory/products/").json()["count"] == 1
    assert list(Product.objects.values_list("code", flat=True)) == ["NEW"]


def test_bad_sat_keys_on_products_are_refused(company, integrator, api_as):
    payload = {
        "company": company.pk,
        "code": "BAD",
        "description": "Malo",
        "unit": "PZA",
        "sat_product_key": "99999999",
        "sat_unit_key": "XXX",
    }
    response = api_as(integrator).post("/api/inventory/products/", payload, format="json")
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"sat_product_key", "sat_unit_key"}
    assert not Product.objects.exists()


def test_company_update_by_accountant_only(company, accountant, cashier, api_as):
    url = f"/api/companies/{company.pk}/"
    assert api_as(cashier).patch(url, {"legal_name": "X"}, format="json").status_code == 403
    response = api_as(accountant).patch(url, {"regimen_fiscal": "605"}, format="json")
    assert response.status_code == 400 and "no aplica a una persona moral" in response.json()["message"]
    ok = api_as(accountant).patch(url, {"legal_name": "ESCUELA KEMPER URGATE SA"}, format="json")
    assert ok.status_code == 200
    company.refresh_from_db()
    assert (company.legal_name, company.regimen_fiscal) == ("ESCUELA KEMPER URGATE SA", "601")


def test_encrypted_field_is_not_stored_in_clear():
    from erp.fields import encrypt_bytes

    token = encrypt_bytes(b"llave-privada")
    assert b"llave-privada" not in token.encode()
    assert decrypt_bytes(token) == b"llave-privada"
