"""Django field validators for RFCs and SAT catalog values, with Spanish messages."""

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from . import sat_catalogs
from .rfc import is_valid_rfc, normalize_rfc


def validate_rfc(value: str) -> None:
    if not is_valid_rfc(value):
        raise ValidationError(
            _(
                "El RFC «%(value)s» no tiene una estructura válida: 3 letras (persona moral) o 4 "
                "(persona física), la fecha AAMMDD y 3 caracteres de homoclave."
            ),
            code="rfc_invalido",
            params={"value": normalize_rfc(value)},
        )


@deconstructible
class SatCatalogValidator:
    """Accepts only keys present in a SAT catalog; ``lookup`` names a function of sat_catalogs."""

    def __init__(self, lookup: str, catalog_label: str, code: str):
        self.lookup = lookup
        self.catalog_label = catalog_label
        self.code = code

    def __call__(self, value: str) -> None:
        if not value or getattr(sat_catalogs, self.lookup)(value) is None:
            raise ValidationError(
                _("«%(value)s» no es una clave válida del catálogo de %(catalog)s del SAT."),
                code=self.code,
                params={"value": value, "catalog": self.catalog_label},
            )

    def __eq__(self, other):
        return isinstance(other, SatCatalogValidator) and self.lookup == other.lookup


validate_regimen_fiscal = SatCatalogValidator("regimen_fiscal_name", "régimen fiscal", "regimen_invalido")
validate_uso_cfdi = SatCatalogValidator("uso_cfdi_name", "uso del CFDI", "uso_cfdi_invalido")
validate_forma_pago = SatCatalogValidator("forma_pago_name", "formas de pago", "forma_pago_invalida")
validate_clave_prod_serv = SatCatalogValidator(
    "clave_prod_serv_name", "productos y servicios", "clave_prod_serv_invalida"
)
validate_clave_unidad = SatCatalogValidator(
    "clave_unidad_name", "unidades de medida", "clave_unidad_invalida"
)
validate_codigo_agrupador = SatCatalogValidator(
    "codigo_agrupador_name", "código agrupador de cuentas", "codigo_agrupador_invalido"
)


def validate_postal_code(value: str) -> None:
    if not sat_catalogs.postal_code_exists(value):
        raise ValidationError(
            _("El código postal «%(value)s» no existe en el catálogo del SAT."),
            code="codigo_postal_invalido",
            params={"value": value},
        )


# XML 1.0 (§2.2) carries tab, newline, carriage return and the printable planes; SAT's patterns
# for names and descriptions (e.g. Nombre, Descripcion: "[^|]{1,…}") also exclude the pipe, which
# separates the fields of the cadena original. A one-line CFDI text (a name, a description) also
# leaves out tab and line breaks: they would be folded by attribute normalization and they break
# mail headers built from it.
_NOT_IN_XML = {chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"} | {"\ufffe", "\uffff"}
_NOT_IN_CFDI_LINE = _NOT_IN_XML | {"\t", "\n", "\r", "|"}


_ANY_NOT_IN_CFDI_LINE = re.compile("[" + re.escape("".join(sorted(_NOT_IN_CFDI_LINE))) + "\ud800-\udfff]")


def cfdi_text_problem(value: str) -> str:
    """'' when ``value`` can go into a CFDI attribute as it is, else the reason, in Spanish."""
    if not _ANY_NOT_IN_CFDI_LINE.search(value or ""):
        return ""  # the usual case, without a set per call (a sync validates 100,000 names)
    bad = sorted({ch for ch in value or "" if ch in _NOT_IN_CFDI_LINE or 0xD800 <= ord(ch) <= 0xDFFF})
    if not bad:
        return ""
    shown = ", ".join("|" if ch == "|" else f"U+{ord(ch):04X}" for ch in bad)
    return (
        f"Contiene caracteres que un CFDI no admite ({shown}): quite saltos de línea, tabuladores, "
        "caracteres de control y la barra vertical."
    )


def validate_cfdi_text(value: str) -> None:
    problem = cfdi_text_problem(value)
    if problem:
        raise ValidationError(problem, code="caracteres_invalidos")
