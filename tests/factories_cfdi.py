"""Test CSDs, descriptions and a company ready to stamp, for the CFDI tests."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from functools import lru_cache

from cfdi import services
from cfdi.description import Concept, FiscalDocument, Receiver
from cfdi.testing_csd import generate_test_csd, new_key

PASSWORD = "12345678a"


@lru_cache(maxsize=8)
def cached_key(name: str = "default"):
    """RSA keys are slow to generate: one per name per test process."""
    return new_key()


def csd_files(rfc: str = "EKU9003173C9", *, key_name: str = "default", password: str = PASSWORD, **options):
    return generate_test_csd(rfc, "ESCUELA KEMPER URGATE", password, key=cached_key(key_name), **options)


def install_test_csd(company, **options):
    cer, key = csd_files(company.rfc, **options)
    return services.install_csd(company=company, cer=cer, key=key, password=PASSWORD)


def expired_window():
    now = datetime.now(UTC)
    return {"valid_from": now - timedelta(days=800), "valid_to": now - timedelta(days=1)}


def future_window():
    now = datetime.now(UTC)
    return {"valid_from": now + timedelta(days=2), "valid_to": now + timedelta(days=800)}


CUSTOMER = Receiver("URE180429TM6", "UNIVERSIDAD ROBOTICA ESPAÑOLA", "86991", "601", "G03")


def concept(quantity="1", price="100.00", **taxes) -> Concept:
    return Concept(
        product_key="01010101",
        unit_key="H87",
        description="Producto de prueba",
        quantity=D(str(quantity)),
        unit_price=D(str(price)),
        unit="PZA",
        **taxes,
    )


def description(company, *concepts, receiver=None, **fields) -> FiscalDocument:
    return FiscalDocument(
        issuer=services.issuer_for(company),
        receiver=receiver or CUSTOMER,
        concepts=tuple(concepts) or (concept(),),
        series=fields.pop("series", "A"),
        folio=fields.pop("folio", "1"),
        **fields,
    )


def seed_invoice(company, **fields) -> FiscalDocument:
    """The seed's worked example: 100 PZA at 11.50 and 200 KG at 10.00 with IVA 16%."""
    return description(
        company,
        concept(100, "11.50"),
        Concept("01010101", "KGM", "Producto B", D("200"), D("10.00"), unit="KG"),
        **fields,
    )


def professional_company():
    """A persona física (612) issuing from Tijuana (22000, frontier region): the issuer for whom
    ISR may be retained and 8% IVA charged, ready to stamp."""
    from tests.factories import CompanyFactory

    company = CompanyFactory(
        rfc="MASO451221PM4", legal_name="MARIA OLIVARES SOTO", regimen_fiscal="612", postal_code="22000"
    )
    install_test_csd(company)
    return company
