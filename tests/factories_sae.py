"""An Aspel SAE database on the local Firebird server, with a small company in it, and the
connection that reads it (tests of the SAE connector)."""

import shutil
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from sync.connectors import sae_layout as L
from sync.connectors.sae_source import SaeDatabase, prepare_folder, server_listening, sysdba_password
from sync.models import Connection
from sync.services import save_connection
from tests.factories import sales_entity

FOLDER = Path("/tmp/erp-sae-tests")

LINES = [
    {"CVE_LIN": "ABAR", "DESC_LIN": "Abarrotes", "STATUS": "A"},
    {"CVE_LIN": "BEB", "DESC_LIN": "Bebidas", "STATUS": "A"},
]
SCHEMES = [  # 1 IVA 16%, 2 IVA 0%, 3 exento, 4 IEPS 8% + IVA 16%, 5 IVA 11% (no equivalent here)
    {"CVE_ESQIMPU": 1, "DESCRIPESQ": "IVA 16%", "IMPUESTO1": 0, "IMP1APLICA": 0, "IMPUESTO2": 0, "IMP2APLICA": 0,
     "IMPUESTO3": 0, "IMP3APLICA": 0, "IMPUESTO4": 16, "IMP4APLICA": 0, "STATUS": "A"},
    {"CVE_ESQIMPU": 2, "DESCRIPESQ": "Tasa 0", "IMPUESTO1": 0, "IMP1APLICA": 0, "IMPUESTO2": 0, "IMP2APLICA": 0,
     "IMPUESTO3": 0, "IMP3APLICA": 0, "IMPUESTO4": 0, "IMP4APLICA": 0, "STATUS": "A"},
    {"CVE_ESQIMPU": 3, "DESCRIPESQ": "Exento", "IMPUESTO1": 0, "IMP1APLICA": 0, "IMPUESTO2": 0, "IMP2APLICA": 0,
     "IMPUESTO3": 0, "IMP3APLICA": 0, "IMPUESTO4": 0, "IMP4APLICA": 6, "STATUS": "A"},
    {"CVE_ESQIMPU": 4, "DESCRIPESQ": "IEPS 8% e IVA", "IMPUESTO1": 8, "IMP1APLICA": 0, "IMPUESTO2": 0,
     "IMP2APLICA": 0, "IMPUESTO3": 0, "IMP3APLICA": 0, "IMPUESTO4": 16, "IMP4APLICA": 1, "STATUS": "A"},
    {"CVE_ESQIMPU": 5, "DESCRIPESQ": "IVA 11%", "IMPUESTO1": 0, "IMP1APLICA": 0, "IMPUESTO2": 0, "IMP2APLICA": 0,
     "IMPUESTO3": 0, "IMP3APLICA": 0, "IMPUESTO4": 11, "IMP4APLICA": 0, "STATUS": "A"},
]  # fmt: skip
WAREHOUSES = [
    {"CVE_ALM": 1, "DESCR": "Matriz", "STATUS": "A"},
    {"CVE_ALM": 2, "DESCR": "Sucursal", "STATUS": "A"},
]
CURRENCIES = [
    {"NUM_MONED": 1, "DESCR": "Pesos", "SIMBOLO": "$", "TCAMBIO": 1, "FULTCAMB": datetime(2026, 12, 1),
     "STATUS": "A", "CVE_MONED": "MXN"},
    {"NUM_MONED": 2, "DESCR": "Dólares", "SIMBOLO": "US$", "TCAMBIO": 17.25, "FULTCAMB": datetime(2026, 12, 1),
     "STATUS": "A", "CVE_MONED": "USD"},
]  # fmt: skip


def product(code: str, **fields) -> dict:
    row = {
        "CVE_ART": code, "DESCR": f"PRODUCTO {code}", "LIN_PROD": "ABAR", "UNI_MED": "PZA", "TIPO_ELE": "P",
        "STATUS": "A", "COSTO_PROM": 10.0, "ULT_COSTO": 10.0, "EXIST": 0, "CVE_ESQIMPU": 1,
        "CVE_PRODSERV": "01010101", "CVE_UNIDAD": "H87",
    }  # fmt: skip
    row.update(fields)
    return row


def customer(key: int | str, rfc: str, **fields) -> dict:
    moral = len(rfc) == 12
    row = {
        "CLAVE": str(key).rjust(10), "STATUS": "A", "NOMBRE": f"CLIENTE {key}", "RFC": rfc,
        "CALLE": "AV. JUAREZ", "NUMEXT": "10", "NUMINT": "", "COLONIA": "CENTRO", "MUNICIPIO": "CUAUHTEMOC",
        "CODIGO": "06000", "TELEFONO": "5555555555", "EMAILPRED": f"cliente{key}@example.mx", "DIASCRED": 30,
        "DESCUENTO": 0, "REG_FISC": "601" if moral else "612", "USO_CFDI": "G03", "FORMADEPAGOSAT": "03",
    }  # fmt: skip
    row.update(fields)
    return row


PRODUCTS = [
    product("A001", DESCR="ARROZ SUPER EXTRA 1 KG", UNI_MED="KG", CVE_ESQIMPU=2, COSTO_PROM=20.5,
            CVE_PRODSERV="50221200", CVE_UNIDAD="KGM"),
    product("B001", DESCR="REFRESCO DE COLA 600 ML", LIN_PROD="BEB", CVE_ESQIMPU=4, COSTO_PROM=8),
    product("C001", DESCR="LIBRO DE TEXTO", CVE_ESQIMPU=3, COSTO_PROM=100),
    product("S001", DESCR="SERVICIO DE ENTREGA", TIPO_ELE="S", LIN_PROD="", CVE_PRODSERV="78101800",
            CVE_UNIDAD="E48", COSTO_PROM=0),
]  # fmt: skip
STOCK = [
    {"CVE_ART": "A001", "CVE_ALM": 1, "STATUS": "A", "EXIST": 10},
    {"CVE_ART": "A001", "CVE_ALM": 2, "STATUS": "A", "EXIST": 5},
    {"CVE_ART": "B001", "CVE_ALM": 1, "STATUS": "A", "EXIST": 24},
    {"CVE_ART": "C001", "CVE_ALM": 2, "STATUS": "A", "EXIST": 3},
]
CUSTOMERS = [
    customer(1, "IIA040805DZ4", NOMBRE="INDISTRIA ILUMINADORA DE ALMACENES"),
    customer(2, "CACX7605101P8", NOMBRE="XOCHILT CASAS CHAVEZ"),
    customer(3, "URE180429TM6", NOMBRE="UNIVERSIDAD ROBOTICA ESPAÑOLA"),
]


def sae_server_or_skip() -> str:
    password = sysdba_password()
    if password is None or not server_listening():
        pytest.skip(
            "No hay servidor Firebird en 127.0.0.1:3050 (paquete firebird3.0-server; .ci/run lo instala "
            "y lo arranca)."
        )
    return password


def new_sae_database(
    *, filled: bool = True, with_tables: bool = True, company_number: int = 1
) -> SaeDatabase:
    password = sae_server_or_skip()
    folder = prepare_folder(FOLDER)
    db = SaeDatabase(folder / f"sae-{uuid.uuid4().hex}.fdb", password=password, company_number=company_number)
    db.create(with_tables=with_tables)
    if filled and with_tables:
        db.insert(L.LINES, LINES)
        db.insert(L.TAX_SCHEMES, SCHEMES)
        db.insert(L.WAREHOUSES, WAREHOUSES)
        db.insert(L.CURRENCIES, CURRENCIES)
        db.insert(L.PRODUCTS, PRODUCTS)
        db.insert(L.STOCK, STOCK)
        db.insert(L.CUSTOMERS, CUSTOMERS)
    return db


def drop(db: SaeDatabase) -> None:
    try:
        db.path.unlink()
    except OSError:
        shutil.rmtree(db.path, ignore_errors=True)


def sae_connection(
    company, db: SaeDatabase, *, password: str | None = None, entity=None, **options
) -> Connection:
    if entity is None and options.get("import_customers", True):
        entity = sales_entity(company, no_stock_movements=True, warehouse=None)
    if entity is not None:
        options.setdefault("entity", entity.code)
    return save_connection(
        connection=Connection(
            company=company, kind=Connection.Kind.SAE, name="Aspel SAE", options=db.options(**options)
        ),
        credentials=db.password if password is None else password,
    )
