import pytest

from accounting.models import Account, AccountingVariable
from accounting.variables import Variable
from demo.services import load_demo
from erp.models import Membership
from inventory.models import Product
from sales.models import Customer, SalesEntity

pytestmark = pytest.mark.django_db

MODELS = [Account, AccountingVariable, Customer, SalesEntity, Product, Membership]


def test_loading_the_demo_twice_is_safe():
    load_demo()
    first = {m.__name__: m.objects.count() for m in MODELS}
    load_demo()
    assert {m.__name__: m.objects.count() for m in MODELS} == first


def test_demo_company_is_fully_configured():
    company = load_demo().company
    assert (company.rfc, company.legal_name, company.regimen_fiscal, company.postal_code) == (
        "EKU9003173C9",
        "ESCUELA KEMPER URGATE",
        "601",
        "42501",
    )
    variables = AccountingVariable.objects.filter(company=company, account__isnull=False)
    assert {v.name for v in variables} == {v.value for v in Variable}
    assert {e.mode for e in SalesEntity.objects.filter(company=company)} == {"contable", "fija"}
    customers = Customer.objects.filter(company=company)
    assert {c.person_type for c in customers.exclude(number=0)} == {"moral", "fisica"}
    assert customers.filter(number=0).count() == 3  # one counter customer per entity
    products = {p.code: p for p in Product.objects.filter(company=company)}
    assert not products["COLEG"].applies_iva
    assert products["CERV"].ieps_rate > 0
    assert products["ASES"].tax_operation == "honorarios"  # retentions follow the parties
    assert set(Membership.objects.filter(company=company).values_list("role", flat=True)) == {
        "accountant",
        "cashier",
        "integrator",
        "ops",
    }
