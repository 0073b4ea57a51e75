"""A stand-in Aspel SAE database on a real Firebird server: SAE's tables for one company number,
with the columns ``sae_layout`` reads, and helpers to put rows in them. The tests and the bench
build their SAE with it (SAE itself is Windows software; its Firebird database is what the
connector talks to, and this is that database).

The server is Debian's ``firebird3.0-server`` on 127.0.0.1:3050 (``.ci/run`` installs and starts
it); the SYSDBA password is in ``/etc/firebird/3.0/SYSDBA.password``. The folder of a database
file must be writable by the ``firebird`` user.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from datetime import datetime
from pathlib import Path

from firebird.driver import connect, create_database

from . import sae_layout as L

PASSWORD_FILE = Path("/etc/firebird/3.0/SYSDBA.password")
HOST, PORT = "127.0.0.1", 3050

DDL = {
    L.PRODUCTS: """CVE_ART VARCHAR(16) NOT NULL PRIMARY KEY, DESCR VARCHAR(40), LIN_PROD VARCHAR(5),
        UNI_MED VARCHAR(10), TIPO_ELE VARCHAR(1), STATUS VARCHAR(1), COSTO_PROM DOUBLE PRECISION,
        ULT_COSTO DOUBLE PRECISION, EXIST DOUBLE PRECISION, CVE_ESQIMPU INTEGER, CVE_PRODSERV VARCHAR(9),
        CVE_UNIDAD VARCHAR(4), VERSION_SINC TIMESTAMP""",
    L.LINES: "CVE_LIN VARCHAR(5) NOT NULL PRIMARY KEY, DESC_LIN VARCHAR(20), STATUS VARCHAR(1)",
    L.STOCK: """CVE_ART VARCHAR(16) NOT NULL, CVE_ALM INTEGER NOT NULL, STATUS VARCHAR(1),
        EXIST DOUBLE PRECISION, STOCK_MIN DOUBLE PRECISION, STOCK_MAX DOUBLE PRECISION,
        PRIMARY KEY (CVE_ART, CVE_ALM)""",
    L.WAREHOUSES: "CVE_ALM INTEGER NOT NULL PRIMARY KEY, DESCR VARCHAR(40), STATUS VARCHAR(1)",
    L.CUSTOMERS: """CLAVE VARCHAR(10) NOT NULL PRIMARY KEY, STATUS VARCHAR(1), NOMBRE VARCHAR(254),
        RFC VARCHAR(15), CALLE VARCHAR(80), NUMEXT VARCHAR(15), NUMINT VARCHAR(15), COLONIA VARCHAR(50),
        MUNICIPIO VARCHAR(50), CODIGO VARCHAR(5), TELEFONO VARCHAR(25), EMAILPRED VARCHAR(255),
        DIASCRED INTEGER, DESCUENTO DOUBLE PRECISION, REG_FISC VARCHAR(4), USO_CFDI VARCHAR(5),
        FORMADEPAGOSAT VARCHAR(5), VERSION_SINC TIMESTAMP""",
    L.CURRENCIES: """NUM_MONED INTEGER NOT NULL PRIMARY KEY, DESCR VARCHAR(20), SIMBOLO VARCHAR(4),
        TCAMBIO DOUBLE PRECISION, FULTCAMB TIMESTAMP, STATUS VARCHAR(1), CVE_MONED VARCHAR(3)""",
    L.TAX_SCHEMES: """CVE_ESQIMPU INTEGER NOT NULL PRIMARY KEY, DESCRIPESQ VARCHAR(40),
        IMPUESTO1 DOUBLE PRECISION, IMP1APLICA SMALLINT, IMPUESTO2 DOUBLE PRECISION, IMP2APLICA SMALLINT,
        IMPUESTO3 DOUBLE PRECISION, IMP3APLICA SMALLINT, IMPUESTO4 DOUBLE PRECISION, IMP4APLICA SMALLINT,
        STATUS VARCHAR(1)""",
}


def sysdba_password() -> str | None:
    """The SYSDBA password Debian's package wrote, or None when the server is not installed."""
    try:
        text = PASSWORD_FILE.read_text()
    except OSError:
        return os.environ.get("ISC_PASSWORD")
    match = re.search(r'ISC_PASSWORD="?([^"\n]+)"?', text)
    return match.group(1) if match else None


def server_listening(host: str = HOST, port: int = PORT) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def prepare_folder(path: Path) -> Path:
    """A folder the server's ``firebird`` user can write (it creates and opens the file)."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        shutil.chown(path, user="firebird", group="firebird")
    except (LookupError, PermissionError):
        path.chmod(0o777)
    return path


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"'{value:%Y-%m-%d %H:%M:%S}'"
    return "'" + str(value).replace("'", "''") + "'"


class SaeDatabase:
    """A Firebird database file with SAE's tables for ``company_number``."""

    def __init__(self, path: Path, *, password: str, company_number: int = 1, user: str = "SYSDBA"):
        self.path = Path(path)
        self.password = password
        self.user = user
        self.number = company_number
        self.dsn = f"{HOST}/{PORT}:{self.path}"

    def create(self, *, with_tables: bool = True) -> SaeDatabase:
        if self.path.exists():
            self.path.unlink()
        db = create_database(self.dsn, user=self.user, password=self.password, charset="ISO8859_1")
        try:
            if with_tables:
                for base, columns in DDL.items():
                    db.execute_immediate(f"CREATE TABLE {L.table(base, self.number)} ({columns})")
                db.commit()
        finally:
            db.close()
        return self

    def add_company(self, number: int) -> None:
        """SAE's tables for another company number in the same database."""
        with connect(self.dsn, user=self.user, password=self.password, charset="ISO8859_1") as db:
            for base, columns in DDL.items():
                db.execute_immediate(f"CREATE TABLE {L.table(base, number)} ({columns})")
            db.commit()

    def execute(self, sql: str, rows=None) -> None:
        with connect(self.dsn, user=self.user, password=self.password, charset="ISO8859_1") as db:
            with db.cursor() as cursor:
                if rows is None:
                    cursor.execute(sql)
                else:
                    cursor.executemany(sql, rows)
            db.commit()

    def insert(self, base: str, rows: list[dict]) -> None:
        """Rows as dicts of column → value (columns left out are NULL), sent as EXECUTE BLOCKs
        of many INSERTs (one round trip per row is what makes a large stand-in slow to build)."""
        if not rows:
            return
        columns = list(rows[0])
        head = f"INSERT INTO {L.table(base, self.number)} ({', '.join(columns)}) VALUES "
        with connect(self.dsn, user=self.user, password=self.password, charset="ISO8859_1") as db:
            block, size = [], 0
            for row in rows:
                statement = head + "(" + ", ".join(_literal(row.get(c)) for c in columns) + ");"
                if size + len(statement) > 30_000 or len(block) == 200:  # 256 tables per statement
                    db.execute_immediate("EXECUTE BLOCK AS BEGIN " + " ".join(block) + " END")
                    block, size = [], 0
                block.append(statement)
                size += len(statement)
            if block:
                db.execute_immediate("EXECUTE BLOCK AS BEGIN " + " ".join(block) + " END")
            db.commit()

    def update(self, base: str, key: str, value, **columns) -> None:
        sets = ", ".join(f"{name} = ?" for name in columns)
        self.execute(
            f"UPDATE {L.table(base, self.number)} SET {sets} WHERE {key} = ?", [[*columns.values(), value]]
        )

    def delete(self, base: str, key: str, value) -> None:
        self.execute(f"DELETE FROM {L.table(base, self.number)} WHERE {key} = ?", [[value]])

    def options(self, **extra) -> dict:
        return {
            "host": HOST,
            "port": PORT,
            "database": str(self.path),
            "user": self.user,
            "company_number": self.number,
            **extra,
        }
