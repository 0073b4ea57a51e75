import pytest

from erp import sat_catalogs
from erp.rfc import PERSONA_FISICA, PERSONA_MORAL, is_generic_rfc, is_valid_rfc, person_type


@pytest.mark.parametrize(
    ("rfc", "valid"),
    [
        ("EKU9003173C9", True),
        ("eku9003173c9", True),
        ("MASO451221PM4", True),
        ("XAXX010101000", True),
        ("XEXX010101000", True),
        ("EKU9013173C9", False),  # month 13
        ("EKU9002303C9", False),  # 30 February
        ("EK9003173C9", False),  # two letters
        ("EKU9003173C", False),  # short homoclave
        ("", False),
    ],
)
def test_rfc_structure(rfc, valid):
    assert is_valid_rfc(rfc) is valid


def test_person_type_from_length():
    assert person_type("EKU9003173C9") == PERSONA_MORAL
    assert person_type("MASO451221PM4") == PERSONA_FISICA


def test_generic_rfcs_are_recognised():
    assert is_generic_rfc("XAXX010101000") and is_generic_rfc("xexx010101000")
    assert not is_generic_rfc("EKU9003173C9")


def test_regimen_and_uso_applicability():
    assert sat_catalogs.regimen_applies_to("601", PERSONA_MORAL)
    assert not sat_catalogs.regimen_applies_to("601", PERSONA_FISICA)
    assert sat_catalogs.regimen_applies_to("626", PERSONA_FISICA)
    assert sat_catalogs.uso_cfdi_applies_to("D01", PERSONA_FISICA)
    assert not sat_catalogs.uso_cfdi_applies_to("D01", PERSONA_MORAL)
    assert sat_catalogs.uso_cfdi_admits_regimen("G03", "601")
    assert not sat_catalogs.uso_cfdi_admits_regimen("G03", "605")
    assert sat_catalogs.uso_cfdi_admits_regimen("S01", "616")


def test_catalog_lookups_come_from_sat():
    assert sat_catalogs.regimen_fiscal_name("601") == "General de Ley Personas Morales"
    assert sat_catalogs.clave_unidad_name("H87") == "Pieza"
    assert sat_catalogs.clave_prod_serv_name("99999999") is None
    assert sat_catalogs.currency_decimals("USD") == 2
