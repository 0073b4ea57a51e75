"""Factories for the catalogs; later issues add theirs here or in a module beside it."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from accounting.models import Account, AccountingVariable
from accounting.variables import Variable
from cashbank.models import CashBankAccount
from erp.models import Company, Currency
from erp.services import grant_membership
from inventory.models import Product, ProductLine, Warehouse
from sales.models import Customer, SalesEntity, Salesperson
from sales.services import save_sales_entity


def currency(code: str) -> Currency:
    return Currency.objects.get(code=code)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("rfc",)

    rfc = "EKU9003173C9"
    legal_name = "ESCUELA KEMPER URGATE"
    regimen_fiscal = "601"
    postal_code = "42501"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("secreto-123")


def user_with_role(company: Company, role: str, username: str | None = None):
    user = UserFactory(username=username or f"{role}-{company.rfc.lower()}")
    grant_membership(user=user, company=company, role=role)
    return user


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"9{n:03d}")
    name = factory.Sequence(lambda n: f"Cuenta {n}")
    nature = Account.Nature.DEBIT
    sat_grouping_code = "101.01"
    postable = True


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"B{n}")
    short_name = factory.Sequence(lambda n: f"Bodega {n}")
    linked_to_accounting = False


class ProductLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductLine

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"L{n}")
    name = factory.Sequence(lambda n: f"Línea {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"P{n:04d}")
    description = factory.Sequence(lambda n: f"Producto {n}")
    unit = "PZA"
    sat_product_key = "01010101"
    sat_unit_key = "H87"
    list_price = Decimal("10.00")


class CashBankAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CashBankAccount

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"C{n}")
    name = factory.Sequence(lambda n: f"Caja {n}")
    kind = CashBankAccount.Kind.CASH
    currency = factory.LazyFunction(lambda: currency("MXN"))
    linked_to_accounting = False


class SalespersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Salesperson

    company = factory.SubFactory(CompanyFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Vendedor {n}")


def sales_entity(company: Company, **fields) -> SalesEntity:
    """A saved entity with its counter customer, as the service creates it."""
    fields.setdefault("code", "MTY")
    fields.setdefault("name", "Monterrey")
    fields.setdefault("series", "A")
    if "warehouse" not in fields and not fields.get("no_stock_movements"):
        fields["warehouse"] = WarehouseFactory(company=company)
    return save_sales_entity(entity=SalesEntity(company=company, **fields))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    entity = None  # required: pass entity=...
    company = factory.LazyAttribute(lambda o: o.entity.company)
    number = factory.Sequence(lambda n: n + 1)
    rfc = "URE180429TM6"
    name = "UNIVERSIDAD ROBOTICA ESPAÑOLA"
    postal_code = "86991"
    regimen_fiscal = "601"
    uso_cfdi = "G03"


def set_all_variables(company: Company) -> dict[str, Account]:
    """Point every accounting variable at a postable account (what a configured company has)."""
    accounts = {}
    for variable in Variable:
        account = AccountFactory(company=company, name=variable.label[:200])
        AccountingVariable.objects.update_or_create(
            company=company, name=variable.value, defaults={"account": account}
        )
        accounts[variable.value] = account
    return accounts
