"""SAT catalogs (Anexo 20) as shipped by satcfdi, plus the applicability columns it lacks.

Every catalog value a user types is checked here, never accepted as free text.
"""

from functools import lru_cache

from satcfdi.catalogs import select, select_all

from .rfc import PERSONA_FISICA, PERSONA_MORAL

# c_RegimenFiscal: whether each regime applies to personas físicas (F) and morales (M).
REGIMEN_APPLIES = {
    "601": "M", "603": "M", "605": "F", "606": "F", "607": "F", "608": "F", "610": "FM",
    "611": "F", "612": "F", "614": "F", "615": "F", "616": "F", "620": "M", "621": "F",
    "622": "M", "623": "M", "624": "M", "625": "F", "626": "FM",
}  # fmt: skip

_BUSINESS_REGIMES = frozenset(["601", "603", "606", "612", "620", "621", "622", "623", "624", "625", "626"])
_DEDUCTION_REGIMES = frozenset(["605", "606", "607", "608", "611", "612", "614", "615", "625"])
_ANY_REGIME = frozenset(
    [
        "601",
        "603",
        "605",
        "606",
        "607",
        "608",
        "610",
        "611",
        "612",
        "614",
        "615",
        "616",
        "620",
        "621",
        "622",
        "623",
        "624",
        "625",
        "626",
    ]
)

# c_UsoCFDI: persona types it applies to and the receiver regimes it admits (CFDI 4.0).
USO_CFDI_RULES = {
    **{code: ("FM", _BUSINESS_REGIMES) for code in ("G01", "G02", "G03")},
    **{f"I0{n}": ("FM", _BUSINESS_REGIMES) for n in range(1, 9)},
    **{f"D{n:02d}": ("F", _DEDUCTION_REGIMES) for n in range(1, 11)},
    "S01": ("FM", _ANY_REGIME),
    "CP01": ("FM", _ANY_REGIME),
    "CN01": ("F", frozenset({"605"})),
}

_PERSON_LETTER = {PERSONA_FISICA: "F", PERSONA_MORAL: "M"}


@lru_cache(maxsize=8)
def choices(catalog: str) -> tuple[tuple[str, str], ...]:
    """(code, 'code - description') pairs for small catalogs used as form choices."""
    return tuple((code, f"{code} - {desc}") for code, desc in sorted(select_all(catalog).items()))


# The catalogs the rule checker reads for every CFDI, and the customer and product validators for
# every row a sync writes, are kept per process (satcfdi reads its SQLite file on every call);
# they change only with a new satcfdi release. Bounded: a few MB at most.
@lru_cache(maxsize=64)
def regimen_fiscal_name(code: str) -> str | None:
    return select("C756_c_RegimenFiscal", code) if code in REGIMEN_APPLIES else None


@lru_cache(maxsize=64)
def uso_cfdi_name(code: str) -> str | None:
    return select("C756_c_UsoCFDI", code) if code in USO_CFDI_RULES else None


@lru_cache(maxsize=64)
def forma_pago_name(code: str) -> str | None:
    return select("C756_c_FormaPago", code)


@lru_cache(maxsize=4096)
def clave_prod_serv_name(code: str) -> str | None:
    return select("C756_c_ClaveProdServ", code)


@lru_cache(maxsize=1024)
def clave_unidad_name(code: str) -> str | None:
    return select("C756_c_ClaveUnidad", code)


@lru_cache(maxsize=16384)
def postal_code_exists(code: str) -> bool:
    return select("C756_c_CodigoPostal", code) is not None


@lru_cache(maxsize=256)
def frontier_stimulus(code: str) -> bool:
    """c_CodigoPostal's EstímuloFranjaFronteriza: the postal code is in the northern or southern
    border region where the 8% IVA stimulus may apply."""
    row = select("C756_c_CodigoPostal", code)
    return bool(row) and row[3] == "1"


def codigo_agrupador_name(code: str) -> str | None:
    return select("Cb9f_c_CodAgrup", code)


@lru_cache(maxsize=256)
def currency_decimals(code: str) -> int | None:
    row = select("C756_c_Moneda", code)
    return row[1] if row else None


def regimen_applies_to(code: str, person: str) -> bool:
    return _PERSON_LETTER[person] in REGIMEN_APPLIES.get(code, "")


def uso_cfdi_applies_to(code: str, person: str) -> bool:
    persons, _ = USO_CFDI_RULES.get(code, ("", frozenset()))
    return _PERSON_LETTER[person] in persons


def uso_cfdi_admits_regimen(uso: str, regimen: str) -> bool:
    _, regimes = USO_CFDI_RULES.get(uso, ("", frozenset()))
    return regimen in regimes
