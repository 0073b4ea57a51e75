"""Aspel SAE's tables as this connector reads them, and the one mapping of their columns onto
our models. The layout is described for people in ``docs/sync-aspel-sae.md``; this module is
the same thing for the code, so a column changes in one place.

Each company of SAE keeps its own tables, named with the company number in two digits
(``INVE01`` for company 1, ``INVE02`` for company 2). The columns read are those SAE 7.0, 8.0
and 9.0 share; the CFDI 4.0 columns of the customer (``REG_FISC``, ``USO_CFDI``,
``FORMADEPAGOSAT``) and the SAT keys of the product (``CVE_PRODSERV``, ``CVE_UNIDAD``) exist
since SAE 7.0 with CFDI 3.3 and 8.0 with CFDI 4.0; a database without them is refused with the
list of columns missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from erp import taxes
from erp.errors import DomainError
from erp.money import quantize
from erp.rfc import normalize_rfc

# --- tables and columns -------------------------------------------------------------------------

PRODUCTS = "INVE"  # productos y servicios
LINES = "CLIN"  # líneas de productos
STOCK = "MULT"  # existencia por almacén
WAREHOUSES = "ALMACENES"  # almacenes
CUSTOMERS = "CLIE"  # clientes
CURRENCIES = "MONED"  # monedas
TAX_SCHEMES = "IMPU"  # esquemas de impuestos

COLUMNS: dict[str, tuple[str, ...]] = {
    PRODUCTS: (
        "CVE_ART", "DESCR", "LIN_PROD", "UNI_MED", "TIPO_ELE", "STATUS", "COSTO_PROM",
        "CVE_ESQIMPU", "CVE_PRODSERV", "CVE_UNIDAD",
    ),
    LINES: ("CVE_LIN", "DESC_LIN", "STATUS"),
    STOCK: ("CVE_ART", "CVE_ALM", "EXIST"),
    WAREHOUSES: ("CVE_ALM", "DESCR", "STATUS"),
    CUSTOMERS: (
        "CLAVE", "STATUS", "NOMBRE", "RFC", "CALLE", "NUMEXT", "NUMINT", "COLONIA", "MUNICIPIO",
        "CODIGO", "TELEFONO", "EMAILPRED", "DIASCRED", "DESCUENTO", "REG_FISC", "USO_CFDI",
        "FORMADEPAGOSAT",
    ),
    CURRENCIES: ("NUM_MONED", "DESCR", "TCAMBIO", "FULTCAMB", "STATUS", "CVE_MONED"),
    TAX_SCHEMES: (
        "CVE_ESQIMPU", "DESCRIPESQ", "IMPUESTO1", "IMP1APLICA", "IMPUESTO2", "IMP2APLICA",
        "IMPUESTO3", "IMP3APLICA", "IMPUESTO4", "IMP4APLICA", "STATUS",
    ),
}  # fmt: skip

# STATUS of SAE's catalogs: A activo, S suspendido, B baja (deleted: SAE keeps the row).
ACTIVE, SUSPENDED, DELETED = "A", "S", "B"
SERVICE_TYPE = "S"  # INVE.TIPO_ELE: P producto, S servicio, K kit, G grupo

# IMPU.IMPxAPLICA: on what the tax applies. 0 the base price, 1–3 the price plus taxes 1–3
# (SAE's "acumulado"), 6 exento.
APPLIES_ON_BASE = 0
APPLIES_ON_PRICE_WITH_IEPS = 1
EXEMPT = 6
IVA_RATES = {Decimal("16"), Decimal("8")}  # gravado: 16%, or 8% from a frontier branch


# The keys' widths: SAE right-aligns a customer's key in its 10 characters ("         7").
PRODUCT_KEY_WIDTH = 16
CUSTOMER_KEY_WIDTH = 10


def table(base: str, company_number: int) -> str:
    return f"{base}{company_number:02d}"


def select(base: str, company_number: int, *, where: str = "", order: str = "", first: int = 0) -> str:
    head = f"SELECT FIRST {first} " if first else "SELECT "
    sql = head + ", ".join(COLUMNS[base]) + f" FROM {table(base, company_number)}"
    if where:
        sql += f" WHERE {where}"
    if order:
        sql += f" ORDER BY {order}"
    return sql


def select_products_with_stock(company_number: int, warehouses: list[int], *, first: int) -> str:
    """A page of ``INVE`` after a key, each product with its ``MULT.EXIST`` in each of
    ``warehouses`` as one more column (``EXIST_<n>``, NULL when MULT has no row): one row per
    product instead of one per product and warehouse, which is what reading costs."""
    stock = table(STOCK, company_number)
    columns = [f"i.{c}" for c in COLUMNS[PRODUCTS]] + [
        f"(SELECT FIRST 1 m.EXIST FROM {stock} m WHERE m.CVE_ART = i.CVE_ART AND m.CVE_ALM = {int(n)}) "
        f"AS EXIST_{int(n)}"
        for n in warehouses
    ]
    return (
        f"SELECT FIRST {int(first)} {', '.join(columns)} FROM {table(PRODUCTS, company_number)} i "
        "WHERE i.CVE_ART > ? ORDER BY i.CVE_ART"
    )


# Which of our keys SAE has: the keys go as one text parameter of fixed-width slots (Firebird's
# IN list takes 1,500 values and prepares slowly with hundreds of parameters; one lookup per key
# by the primary key inside an EXECUTE BLOCK, which only reads, is ten times faster). 8,000
# characters are 32,000 bytes even in UTF8, under Firebird's 32,765 for a VARCHAR.
KEYS_PARAMETER = 8000


def keys_per_call(width: int) -> int:
    return KEYS_PARAMETER // width


def pack_keys(keys: list[str], width: int) -> str:
    return "".join(key.ljust(width) for key in keys)


def select_present_keys(base: str, company_number: int, width: int, *, condition: str) -> str:
    """An EXECUTE BLOCK answering which keys of the packed parameter (``pack_keys``) satisfy
    ``condition`` on ``base`` (``:K`` is the key, stripped); it returns them stripped."""
    return (
        f"EXECUTE BLOCK (KEYS VARCHAR({KEYS_PARAMETER}) = ?) RETURNS (K VARCHAR({width})) AS "
        "DECLARE P INTEGER = 1; "
        "BEGIN "
        "  WHILE (P <= CHAR_LENGTH(KEYS)) DO BEGIN "
        f"    K = TRIM(SUBSTRING(KEYS FROM P FOR {width})); "
        f"    P = P + {width}; "
        f"    IF (EXISTS(SELECT 1 FROM {table(base, company_number)} WHERE {condition})) THEN SUSPEND; "
        "  END "
        "END"
    )


# a product's key as typed; a customer's as typed or right-aligned in its 10 characters
PRODUCT_PRESENT = "CVE_ART = :K"
CUSTOMER_ALIVE = f"CLAVE IN (:K, LPAD(:K, {CUSTOMER_KEY_WIDTH})) AND STATUS <> '{DELETED}'"


def as_dict(base: str, row) -> dict:
    return dict(zip(COLUMNS[base], row, strict=True))


# --- values -------------------------------------------------------------------------------------


def text(value) -> str:
    return "" if value is None else str(value).strip()


def number(value, places: int) -> Decimal:
    try:
        return quantize(Decimal(str(value if value is not None else 0)), places)
    except (InvalidOperation, DomainError):
        return quantize(Decimal(0), places)


def day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


# --- tax schemes → the product's tax profile ----------------------------------------------------


@dataclass(frozen=True)
class TaxProfile:
    iva_treatment: str
    ieps_rate: Decimal


class UnmappableScheme(ValueError):
    """A scheme whose taxes have no equivalent here; the message says why (Spanish)."""


def tax_profile(scheme: dict) -> TaxProfile:
    """IMPU's four taxes: 1 IEPS, 2 and 3 retentions, 4 IVA (SAE's own order).

    - IVA 16% or 8% → gravado (the rate follows the issuing branch, ``erp.taxes``); 0% → tasa 0;
      applied as exento → exento.
    - IEPS at a rate on the base price → the product's IEPS %.
    - Retentions are decided here by ``erp.taxes`` from the operation and the parties, never
      from the product, so a scheme that carries them is refused rather than half applied.
    """
    key = text(scheme["CVE_ESQIMPU"])
    ieps, iva = number(scheme["IMPUESTO1"], 4), number(scheme["IMPUESTO4"], 4)
    ieps_applies, iva_applies = int(scheme["IMP1APLICA"] or 0), int(scheme["IMP4APLICA"] or 0)
    if number(scheme["IMPUESTO2"], 4) or number(scheme["IMPUESTO3"], 4):
        raise UnmappableScheme(
            f"El esquema de impuestos {key} lleva retenciones (impuestos 2 y 3); aquí las retenciones "
            "se deciden por el tipo de operación del producto y el receptor, no por el esquema."
        )
    if ieps < 0 or iva < 0:
        raise UnmappableScheme(f"El esquema de impuestos {key} tiene una tasa negativa.")
    if ieps and ieps_applies != APPLIES_ON_BASE:
        raise UnmappableScheme(
            f"El esquema de impuestos {key} aplica el IEPS sobre un precio con impuestos; solo se "
            "admite el IEPS sobre el precio base."
        )
    if iva_applies == EXEMPT:
        treatment = taxes.IVA_EXEMPT
    elif iva == 0:
        treatment = taxes.IVA_ZERO
    elif iva in IVA_RATES and iva_applies in (APPLIES_ON_BASE, APPLIES_ON_PRICE_WITH_IEPS):
        treatment = taxes.IVA_TAXED
    else:
        raise UnmappableScheme(
            f"El esquema de impuestos {key} tiene IVA de {iva.normalize():f}%; solo se admiten 16%, 8% "
            "(región fronteriza), 0% y exento."
        )
    return TaxProfile(iva_treatment=treatment, ieps_rate=ieps)


# --- rows → our models --------------------------------------------------------------------------

LINE_FIELDS = ["name"]
# The product fields SAE owns: read-only in the admin once the product came from SAE.
PRODUCT_FIELDS = [
    "description", "line", "unit", "sat_product_key", "sat_unit_key", "is_service", "active",
]  # fmt: skip
PRODUCT_TAX_FIELDS = ["iva_treatment", "ieps_rate"]
CUSTOMER_FIELDS = [
    "name", "rfc", "address", "colonia", "poblacion", "postal_code", "phones", "email",
    "regimen_fiscal", "uso_cfdi", "forma_pago", "credit_days", "general_discount", "active",
]  # fmt: skip


def line_values(row: dict) -> dict:
    return {"code": text(row["CVE_LIN"]), "name": text(row["DESC_LIN"])[:120] or text(row["CVE_LIN"])}


def product_values(row: dict) -> dict:
    """INVE's columns as Product fields (``line`` and the tax profile are resolved by the
    connector: they need the page's lookups)."""
    return {
        "code": text(row["CVE_ART"]),
        "description": text(row["DESCR"]),
        "unit": text(row["UNI_MED"])[:20],
        "sat_product_key": text(row["CVE_PRODSERV"]),
        "sat_unit_key": text(row["CVE_UNIDAD"]).upper(),
        "is_service": text(row["TIPO_ELE"]).upper() == SERVICE_TYPE,
        "active": text(row["STATUS"]).upper() == ACTIVE,
    }


def product_cost(row: dict) -> Decimal:
    return number(row["COSTO_PROM"], 6)


def customer_values(row: dict) -> dict:
    street = " ".join(
        part
        for part in (
            text(row["CALLE"]),
            text(row["NUMEXT"]),
            f"int. {text(row['NUMINT'])}" if text(row["NUMINT"]) else "",
        )
        if part
    )
    return {
        "name": text(row["NOMBRE"]),
        "rfc": normalize_rfc(text(row["RFC"])),
        "address": street[:254],
        "colonia": text(row["COLONIA"])[:120],
        "poblacion": text(row["MUNICIPIO"])[:120],
        "postal_code": text(row["CODIGO"]),
        "phones": text(row["TELEFONO"])[:120],
        "email": text(row["EMAILPRED"]).split(";")[0].strip()[:254],
        "regimen_fiscal": text(row["REG_FISC"]),
        "uso_cfdi": text(row["USO_CFDI"]),
        "forma_pago": text(row["FORMADEPAGOSAT"]) or "99",
        "credit_days": max(int(row["DIASCRED"] or 0), 0),
        "general_discount": number(row["DESCUENTO"], 2),
        "active": text(row["STATUS"]).upper() == ACTIVE,
    }


def customer_deleted(row: dict) -> bool:
    return text(row["STATUS"]).upper() == DELETED


def currency_values(row: dict) -> dict:
    return {
        "code": text(row["CVE_MONED"]).upper(),
        "name": text(row["DESCR"])[:60],
        "rate": number(row["TCAMBIO"], 6),
        "date": day(row["FULTCAMB"]),
    }
