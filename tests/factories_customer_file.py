"""Builders for the customer file import's tests: spreadsheets in memory and a connection."""

import csv
import io
import zipfile

import openpyxl

from erp.rfc import check_digit
from sync.models import Connection
from sync.services import save_connection
from tests.factories import sales_entity

HEADERS = ["Clave", "RFC", "Razón social", "Régimen fiscal", "Código postal", "Uso CFDI", "Forma de pago",
           "Correo electrónico", "Teléfonos", "Días de crédito"]  # fmt: skip


def moral_rfc(n: int) -> str:
    """A persona moral RFC with a valid check digit, distinct for each n (0 ≤ n < 1,000,000)."""
    letters = "".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(n // 26**i) % 26] for i in range(3))
    body = f"{letters}01{(n // 28) % 12 + 1:02d}{n % 28 + 1:02d}{n // 17576 % 100:02d}"
    return body + check_digit(body + "0")


def row(n: int, **fields) -> list:
    values = {
        "Clave": f"C{n:06d}",
        "RFC": moral_rfc(n),
        "Razón social": f"CLIENTE {n} SA DE CV",
        "Régimen fiscal": "601",
        "Código postal": "06000",
        "Uso CFDI": "G03",
        "Forma de pago": "03",
        "Correo electrónico": f"c{n}@example.mx",
        "Teléfonos": "8181234567",
        "Días de crédito": 30,
    }
    values.update(fields)
    return [values[h] for h in HEADERS]


def xlsx(rows, headers=HEADERS) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Clientes")
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, headers=HEADERS, *, encoding="utf-8", delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def file_connection(company, *, entity=None, name="Archivo de clientes", **options) -> Connection:
    code = entity if isinstance(entity, str) else (entity or sales_entity(company)).code
    options = {"entity": code, "match_key": "clave", **options}
    credentials = options.pop("password", None)
    return save_connection(
        connection=Connection(
            company=company, kind=Connection.Kind.CUSTOMER_FILE, name=name, options=options
        ),
        credentials=credentials,
    )


def ratio_bomb() -> bytes:
    """A small XLSX whose sheet unzips to 2 MB of one repeated byte (>1000:1): a "zip bomb"."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (2 * 1024 * 1024) + b"/>")
    return out.getvalue()
