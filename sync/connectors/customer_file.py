"""Customer file (Excel/CSV): a business keeps its customers in another system and sends the list
as a spreadsheet, uploaded by hand, posted to the API or dropped in an FTP folder.

The seed's rules (``intiza-customer-data-update``):

- customers not here are added; customers here whose data differ are updated; customers here
  and not in the file are left untouched (the file may hold only some customers);
- the match key is the customer's clave (its key in the other system, ``external_key``) or its
  RFC, per connection (the RFC alone cannot tell apart the customers who share XAXX010101000);
- a field set to "Ignorar" is never changed by an import;
- each row is validated as the customer form validates it (``sales.services.customer_row_error``,
  i.e. ``Customer.full_clean``: RFC and check digit, régimen vs person type, C.P., uso del CFDI vs
  régimen); a bad row is an event with its row number and column, and the rest applies.

**Preview, then apply exactly that.** ``build_preview`` reads the file once, in pages of
``page_size`` rows (one query for the existing customers of a page, no query per row), and
stores what each row would do as ``CustomerImportRow`` (create: the values; update: field →
[old, new]; error: row, column, message), keyed by the file's SHA-256. A whole-file fault (not a
spreadsheet, empty, no mapped headers, over 50 MB, a zip bomb, a key twice in the file) raises
``DomainError`` and the preview's transaction stores nothing. Applying queues a run of the
engine; this connector's ``read_page`` pages through the stored rows (cursor
``imp:<import id>:<last row pk>``) and ``write_page`` writes them through
``sales.services.save_customers_batch``. A customer changed since the preview (its current value
is not the "old" value shown) is not overwritten: that row becomes an error event.

**FTP.** A scheduled run with an FTP folder configured reads its new files one by one: each is
previewed and queued, then moved to ``procesados``; a file that cannot be read goes to
``rechazados`` with an error event. A file name and hash already imported is never imported
again (it is only moved out of the way).

**Formulas.** Cells are read as values, never evaluated (openpyxl ``read_only``; a formula comes
back as its text). A text cell starting with ``=``, ``+``, ``-`` or ``@`` is refused with its row
and column (a phone may start with ``+`` followed by digits), so no such value is stored and
exported back to a spreadsheet; ``escape_cell`` escapes the file's name where it is an event's
record key (a sync of events to a spreadsheet must not run it).

**Reading.** openpyxl in read-only mode streams the first sheet row by row and the ``csv``
module reads CSV (UTF-8 with or without BOM, else Windows-1252; comma, semicolon or tab), so
memory does not grow with the file. (django-import-export was weighed: it loads the whole file
into a tablib ``Dataset`` in memory and saves instance by instance, which misses both the memory
and the speed goal.)
"""

from __future__ import annotations

import contextlib
import csv
import ftplib
import hashlib
import io
import posixpath
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from erp.errors import DomainError
from erp.rfc import is_generic_rfc, normalize_rfc
from sales.models import Customer, SalesEntity, Salesperson
from sales.services import customer_row_error, save_customers_batch

from .base import Connector, EventDraft, Outcome, Page, SourceRefused, SourceUnavailable

MAX_FILE_BYTES = 50 * 1024 * 1024  # the default of settings.CUSTOMER_FILE_MAX_BYTES
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024  # all the XLSX's members together, once unzipped
MAX_RATIO = 100  # unzipped / zipped, per member over 1 MB: a zip bomb compresses far beyond this
PREVIEW_PAGE = 1000
DANGEROUS_START = ("=", "+", "-", "@")

# field → (label shown to the user, default header: what this ERP's own customer export says)
FIELDS: dict[str, tuple[str, str]] = {
    "clave": ("Clave", "Clave"),
    "rfc": ("RFC", "RFC"),
    "name": ("Razón social", "Razón social"),
    "regimen_fiscal": ("Régimen fiscal", "Régimen fiscal"),
    "postal_code": ("Código postal", "Código postal"),
    "uso_cfdi": ("Uso CFDI", "Uso CFDI"),
    "forma_pago": ("Forma de pago", "Forma de pago"),
    "email": ("Correo electrónico", "Correo electrónico"),
    "phones": ("Teléfonos", "Teléfonos"),
    "address": ("Dirección", "Dirección"),
    "colonia": ("Colonia", "Colonia"),
    "poblacion": ("Población", "Población"),
    "credit_days": ("Días de crédito", "Días de crédito"),
    "general_discount": ("Descuento general %", "Descuento general %"),
    "salesperson": ("Vendedor", "Vendedor"),
}
MATCH_KEYS = {"clave": "Clave del cliente", "rfc": "RFC"}
ATTR = {"clave": "external_key", "salesperson": "salesperson_id"}  # field → Customer attribute
TEXT_FIELDS = {"clave", "rfc", "name", "email", "phones", "address", "colonia", "poblacion"}


def _plain(text: str) -> str:
    """A header as compared: no accents, case or surrounding spaces."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(text.casefold().split())


def escape_cell(value) -> str:
    """A value as written to a CSV/XLSX for a person to open: a leading = + - @ is neutralised
    with an apostrophe, so a spreadsheet never runs it as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS_START) else text


def max_file_bytes() -> int:
    """The largest file an import reads (``CUSTOMER_FILE_MAX_BYTES``, 50 MB by default), read at
    each import so the setting can be changed without a restart of the code that imports this."""
    return int(getattr(settings, "CUSTOMER_FILE_MAX_BYTES", MAX_FILE_BYTES))


def _refuse(message: str) -> DomainError:
    return DomainError("archivo_invalido", message)


# --- options ----------------------------------------------------------------------------------
class CustomerFileConnector(Connector):
    kind = "customer_file"

    @classmethod
    def clean_options(cls, connection) -> dict:
        options = dict(connection.options or {})
        errors: list[str] = []
        entity_code = str(options.get("entity") or "").strip()
        if not entity_code:
            errors.append("Indique la entidad de venta que recibe los clientes nuevos.")
        elif (
            connection.company_id
            and not SalesEntity.objects.filter(company_id=connection.company_id, code=entity_code).exists()
        ):
            errors.append(f"La entidad de venta «{entity_code}» no existe en la empresa.")
        match_key = str(options.get("match_key") or "clave")
        if match_key not in MATCH_KEYS:
            errors.append("La llave de coincidencia debe ser «clave» o «rfc».")
        columns = options.get("columns") or {}
        if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            errors.append("El mapeo de columnas debe asociar cada campo con el encabezado de su columna.")
            columns = {}
        unknown = sorted(set(columns) - set(FIELDS))
        if unknown:
            errors.append(f"Campos desconocidos en el mapeo de columnas: {', '.join(unknown)}.")
        mapped = {f: (columns.get(f) or FIELDS[f][1]).strip() for f in FIELDS}
        ignored = options.get("ignored") or []
        if not isinstance(ignored, list):
            errors.append("Los campos ignorados deben ser una lista.")
            ignored = []
        bad = sorted(str(f) for f in ignored if f not in FIELDS)
        if bad:
            errors.append(f"Campos desconocidos en «Ignorar»: {', '.join(bad)}.")
        if match_key in ignored:
            errors.append(
                f"El campo de la llave de coincidencia ({FIELDS[match_key][0]}) no puede ignorarse."
            )
        try:
            page_size = int(options.get("page_size", PREVIEW_PAGE))
        except (TypeError, ValueError):
            page_size = 0
        if not 1 <= page_size <= 5000:
            errors.append("El tamaño de página debe estar entre 1 y 5000.")
        ftp = options.get("ftp") or None
        if ftp is not None:
            ftp, ftp_errors = _clean_ftp(ftp)
            errors.extend(ftp_errors)
        if errors:
            raise ValidationError({"options": errors})
        return {
            "entity": entity_code,
            "match_key": match_key,
            "columns": mapped,
            "ignored": sorted({f for f in ignored if f in FIELDS}, key=list(FIELDS).index),
            "page_size": page_size,
            "ftp": ftp,
        }

    def __init__(self, connection):
        super().__init__(connection)
        self.options = connection.options
        self.entity = SalesEntity.objects.select_related("company").get(
            company_id=connection.company_id, code=self.options["entity"]
        )
        self.entities = {e.pk: e for e in SalesEntity.objects.filter(company_id=connection.company_id)}
        for entity in self.entities.values():
            entity.company = self.entity.company
        self.page_size = self.options["page_size"]
        self._current = None  # (import, last page of it?) between read_page and write_page
        self._pending_events: list[EventDraft] = []
        self._ftp_failed = 0

    # --- reading: the stored rows of queued imports, and new FTP files ------------------------
    def read_page(self, cursor: str) -> Page:
        from sync.models import CustomerImport  # noqa: PLC0415 (models import the connector registry)

        import_id, after = _parse_cursor(cursor)
        current = None
        if import_id:
            current = CustomerImport.objects.filter(
                pk=import_id, connection=self.connection, status=CustomerImport.Status.QUEUED
            ).first()
        if current is None:
            after = 0
            current = (
                CustomerImport.objects.filter(connection=self.connection, status=CustomerImport.Status.QUEUED)
                .order_by("pk")
                .first()
            )
            if current is None and self.options.get("ftp"):
                current = self._next_ftp_file()
            if current is None:
                self._current = None
                return Page(records=[], cursor=cursor, has_more=False)
            CustomerImport.objects.filter(pk=current.pk).update(run_id=self.connection.lease_run_id)
        rows = list(current.rows.filter(pk__gt=after).order_by("pk")[: self.page_size + 1])
        last = len(rows) <= self.page_size
        rows = rows[: self.page_size]
        self._current = (current, last)
        next_cursor = f"imp:{current.pk}:{rows[-1].pk if rows else after}"
        return Page(records=rows, cursor=next_cursor, has_more=True)

    def write_page(self, page: Page) -> Outcome:
        from sync.models import CustomerImport, CustomerImportRow  # noqa: PLC0415

        outcome = Outcome()
        outcome.failed += self._ftp_failed
        outcome.events.extend(self._pending_events)
        self._pending_events, self._ftp_failed = [], 0
        if self._current is None:
            return outcome
        current, last = self._current
        creates = [r for r in page.records if r.action == CustomerImportRow.Action.CREATE]
        updates = [r for r in page.records if r.action == CustomerImportRow.Action.UPDATE]
        for row in page.records:
            if row.action == CustomerImportRow.Action.ERROR:
                outcome.error(f"Fila {row.row}, columna «{row.column}»: {row.message}", key=f"fila {row.row}")
        salespeople = {s.pk: s for s in Salesperson.objects.filter(company_id=self.entity.company_id)}
        new, changed, origin = [], [], {}
        attr = ATTR.get(self.options["match_key"], "rfc")
        keys = [r.values[attr] for r in creates]
        taken = set(
            Customer.objects.filter(company_id=self.entity.company_id, **{f"{attr}__in": keys}).values_list(
                attr, flat=True
            )
        )
        for row in creates:
            if row.values[attr] in taken:
                outcome.error(
                    f"Fila {row.row}: el cliente {row.key} se dio de alta después de la vista previa; no se "
                    "duplicó. Genere una vista previa nueva.",
                    key=row.key,
                )
                continue
            customer = Customer(company=self.entity.company, entity=self.entity)
            for name, value in row.values.items():
                _set(customer, name, value, salespeople)
            new.append(customer)
            origin[id(customer)] = row
        fields: set[str] = set()
        locked = {}
        for customer in (
            Customer.objects.select_for_update()
            .filter(company_id=self.entity.company_id, pk__in=[r.customer_id for r in updates])
            .order_by("pk")
        ):
            customer.company = self.entity.company  # loaded once, not joined per row
            customer.entity = self.entities.get(customer.entity_id) or customer.entity
            if customer.salesperson_id:
                customer.salesperson = salespeople.get(customer.salesperson_id)
            locked[customer.pk] = customer
        for row in updates:
            customer = locked.get(row.customer_id)
            stale = customer is None or any(
                _stored(customer, name) != old for name, (old, _new) in row.changes.items()
            )
            if stale:
                outcome.error(
                    f"Fila {row.row}: el cliente {row.key} cambió (o se eliminó) después de la vista previa; "
                    "no se actualizó. Genere una vista previa nueva.",
                    key=row.key,
                )
                continue
            for name, (_old, value) in row.changes.items():
                _set(customer, name, value, salespeople)
                fields.add(name)
            changed.append(customer)
            origin[id(customer)] = row
        update_fields = [ATTR.get(f, f) for f in FIELDS if f in fields]
        update_fields = [f.removesuffix("_id") if f == "salesperson_id" else f for f in update_fields]
        # A new customer is created with exactly the values the preview validated
        # (``customer_row_error``); updates are validated again, as other fields may have moved.
        rejected = save_customers_batch(
            entity=self.entity,
            new=new,
            changed=changed if update_fields else [],
            fields=update_fields,
            new_validated=True,
        )
        rejected_ids = {id(c) for c, _ in rejected}
        for customer, error in rejected:
            row = origin[id(customer)]
            outcome.error(
                f"Fila {row.row}: cliente {row.key} no importado: {_error_text(error)}", key=row.key
            )
        outcome.created += sum(1 for c in new if id(c) not in rejected_ids)
        outcome.updated += sum(1 for c in changed if id(c) not in rejected_ids)
        if last:
            outcome.unchanged += current.unchanged
            CustomerImport.objects.filter(pk=current.pk).update(status=CustomerImport.Status.APPLIED)
            outcome.events.append(
                EventDraft(
                    "info",
                    f"Archivo «{current.file_name}» aplicado (vista previa #{current.pk}): {current.to_create} "
                    f"altas, {current.to_update} actualizaciones, {current.unchanged} sin cambios y "
                    f"{current.errors} filas con error en la vista previa.",
                    record_key=escape_cell(current.file_name)[:60],
                    record_model="sync.customerimport",
                    record_id=current.pk,
                )
            )
        return outcome

    # --- FTP ------------------------------------------------------------------------------------
    def _ftp(self) -> ftplib.FTP:
        settings = self.options["ftp"]
        ftp = ftplib.FTP(timeout=settings["timeout_seconds"])
        try:
            ftp.connect(settings["host"], settings["port"])
            ftp.login(settings["user"], self.connection.credentials or "")
            ftp.cwd(settings["folder"])
        except ftplib.error_perm as error:
            ftp.close()
            raise SourceRefused(f"El servidor FTP rechazó la conexión: {error}.") from error
        except (OSError, EOFError, ftplib.Error) as error:
            ftp.close()
            raise SourceUnavailable(f"No se pudo conectar con el servidor FTP: {error}.") from error
        return ftp

    def _next_ftp_file(self):
        """Read the folder's next new file: preview and queue it (→ procesados) or reject it
        (→ rechazados). A file already imported (same name and hash) is only moved out."""
        from sync.models import CustomerImport  # noqa: PLC0415

        ftp = self._ftp()
        try:
            while True:
                entries = sorted(
                    (name, facts)
                    for name, facts in ftp.mlsd(facts=["type", "size"])
                    if facts.get("type") == "file"
                )
                if not entries:
                    return None
                name, facts = entries[0]
                with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as data:
                    size = int(facts.get("size") or 0)
                    if size <= max_file_bytes():
                        size = _download(ftp, name, data)
                    if size > max_file_bytes():
                        self._reject_ftp(ftp, name, size, "", _too_big_message(size))
                        continue
                    data.seek(0)
                    digest = file_sha256(data)
                    if CustomerImport.objects.filter(
                        connection=self.connection,
                        source=CustomerImport.Source.FTP,
                        file_name=name,
                        sha256=digest,
                    ).exists():
                        self._pending_events.append(
                            EventDraft("warning", f"El archivo «{name}» ya se había importado; no se procesó otra vez.",
                                       record_key=escape_cell(name)[:60])
                        )  # fmt: skip
                        _move(ftp, name, "procesados")
                        continue
                    try:
                        preview = build_preview(
                            connection=self.connection,
                            name=name,
                            data=data,
                            size=size,
                            source="ftp",
                            queue=True,
                        )
                    except DomainError as error:
                        self._reject_ftp(ftp, name, size, digest, error.message)
                        continue
                _move(ftp, name, "procesados")
                return preview
        except (OSError, EOFError, ftplib.Error) as error:
            raise SourceUnavailable(f"Falló la lectura de la carpeta FTP: {error}.") from error
        finally:
            try:
                ftp.quit()
            except (OSError, EOFError, ftplib.Error):
                ftp.close()

    def _reject_ftp(self, ftp, name: str, size: int, digest: str, message: str) -> None:
        from sync.models import CustomerImport  # noqa: PLC0415

        CustomerImport.objects.create(
            company_id=self.connection.company_id,
            connection=self.connection,
            source=CustomerImport.Source.FTP,
            status=CustomerImport.Status.REJECTED,
            file_name=name[:255],
            sha256=digest,
            size=size,
            message=message[:500],
            run_id=self.connection.lease_run_id,
        )
        _move(ftp, name, "rechazados")
        self._ftp_failed += 1
        self._pending_events.append(
            EventDraft(
                "error",
                f"Archivo «{name}» rechazado (se movió a «rechazados»): {message}",
                record_key=escape_cell(name)[:60],
            )
        )


def _clean_ftp(ftp) -> tuple[dict | None, list[str]]:
    if not isinstance(ftp, dict):
        return None, ["La configuración FTP debe tener servidor, puerto, carpeta y usuario."]
    errors = []
    host = str(ftp.get("host") or "").strip()
    if not host:
        errors.append("Indique el servidor FTP.")
    try:
        port = int(ftp.get("port") or 21)
        timeout = float(ftp.get("timeout_seconds") or 10)
    except (TypeError, ValueError):
        port, timeout = 0, 0
    if not 1 <= port <= 65535:
        errors.append("El puerto FTP debe estar entre 1 y 65535.")
    if not 0 < timeout <= 120:
        errors.append("El tiempo de espera FTP debe estar entre 1 y 120 segundos.")
    user = str(ftp.get("user") or "").strip()
    if not user:
        errors.append("Indique el usuario FTP (la contraseña va en las credenciales, cifrada).")
    folder = str(ftp.get("folder") or "/").strip() or "/"
    return {"host": host, "port": port, "folder": folder, "user": user, "timeout_seconds": timeout}, errors


def _download(ftp: ftplib.FTP, name: str, out) -> int:
    """Download up to just over the limit; returns the bytes read (over the limit: refused)."""
    read, limit = 0, max_file_bytes()

    def take(chunk: bytes) -> None:
        nonlocal read
        read += len(chunk)
        if read <= limit + 1:
            out.write(chunk)

    ftp.retrbinary(f"RETR {name}", take)
    return read


def _move(ftp: ftplib.FTP, name: str, folder: str) -> None:
    with contextlib.suppress(ftplib.error_perm):  # it exists
        ftp.mkd(folder)
    target = posixpath.join(folder, name)
    try:
        ftp.rename(name, target)
    except ftplib.error_perm:  # a file of that name is already there: keep both
        stem, dot, ext = name.rpartition(".")
        ftp.rename(name, posixpath.join(folder, f"{stem or ext}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"
                                               f"-{len(ftp.nlst(folder))}{dot}{ext if stem else ''}"))  # fmt: skip


def _parse_cursor(cursor: str) -> tuple[int | None, int]:
    parts = (cursor or "").split(":")
    if len(parts) == 3 and parts[0] == "imp" and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return None, 0


# --- values -------------------------------------------------------------------------------------
def _error_text(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(str(m) for messages in error.message_dict.values() for m in messages)
    return " ".join(str(m) for m in error.messages)


def _stored(customer: Customer, field: str) -> str:
    """A customer's current value of a field, as the preview stores it (text)."""
    value = getattr(customer, ATTR.get(field, field))
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _set(customer: Customer, field: str, value: str, salespeople: dict) -> None:
    if field == "salesperson":
        customer.salesperson = salespeople.get(int(value)) if value else None
    elif field == "credit_days":
        customer.credit_days = int(value or 0)
    elif field == "general_discount":
        customer.general_discount = Decimal(value or "0")
    else:
        setattr(customer, ATTR.get(field, field), value)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def file_sha256(data) -> str:
    digest = hashlib.sha256()
    data.seek(0)
    for chunk in iter(lambda: data.read(1024 * 1024), b""):
        digest.update(chunk)
    data.seek(0)
    return digest.hexdigest()


def _too_big_message(size: int) -> str:
    return (
        f"El archivo pesa {size / 1024 / 1024:.1f} MB; el máximo es {max_file_bytes() / 1024 / 1024:g} MB. "
        "Divídalo en archivos más pequeños."
    )


# --- reading a file -------------------------------------------------------------------------------
def read_rows(data, size: int) -> Iterator[tuple[int, list]]:
    """(row number, cell values) of the file's first sheet, header included, streamed. Refuses
    (``DomainError``, Spanish) what is not a spreadsheet, an empty file, an oversized one and a
    zip bomb before reading any row."""
    if size > max_file_bytes():
        raise _refuse(_too_big_message(size))
    data.seek(0)
    head = data.read(8192)
    data.seek(0)
    if not head.strip():
        raise _refuse("El archivo está vacío.")
    if head.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(
            "El formato .xls (Excel 97-2003) no se admite: guarde el archivo como Libro de Excel (.xlsx) o CSV."
        )
    if b"\x00" in head or head.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8")):
        raise _refuse("El archivo no es una hoja de cálculo: envíe un Libro de Excel (.xlsx) o un CSV.")
    return _csv_rows(data, head)


def _xlsx_rows(data) -> Iterator[tuple[int, list]]:
    try:
        archive = zipfile.ZipFile(data)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise _refuse(
            "El archivo no es un Libro de Excel válido (.xlsx): está dañado o incompleto."
        ) from error
    total = sum(m.file_size for m in members)
    bomb = any(
        m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1) for m in members
    )
    if total > MAX_UNCOMPRESSED_BYTES or bomb:
        raise _refuse(
            "El archivo Excel se expande a un tamaño desproporcionado al descomprimirse (posible «bomba zip»); "
            "no se leyó."
        )
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise _refuse("El archivo no es un Libro de Excel (.xlsx): envíe un .xlsx o un CSV.")
    data.seek(0)
    try:
        workbook = openpyxl.load_workbook(data, read_only=True, data_only=False, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise _refuse("No se pudo leer el Libro de Excel: el archivo está dañado.") from error

    def rows():
        try:
            sheet = workbook.worksheets[0]
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(values)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
            raise _refuse("No se pudo leer el Libro de Excel: el archivo está dañado.") from error
        finally:
            workbook.close()

    return rows()


def _csv_rows(data, head: bytes) -> Iterator[tuple[int, list]]:
    try:
        head.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as error:
        # A character cut at the sample's end is still UTF-8; anything before is Windows-1252.
        encoding = "cp1252" if error.start < len(head) - 4 else "utf-8-sig"
    first_line = head.decode(encoding.replace("-sig", ""), errors="replace").splitlines()[0]
    delimiter = max([";", ",", "\t"], key=first_line.count)
    text = io.TextIOWrapper(data, encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)

    def rows():
        try:
            for number, cells in enumerate(reader, start=1):
                if any("\x00" in cell for cell in cells):  # Python's csv takes it; no text column can
                    raise _refuse(
                        f"El archivo tiene caracteres nulos en la línea {reader.line_num}: no es un CSV de texto. "
                        "Expórtelo otra vez como CSV (UTF-8 o Windows-1252). No se aplicó nada."
                    )
                yield number, cells
        except UnicodeDecodeError as error:
            raise _refuse(
                "El archivo CSV no está en UTF-8 ni en Windows-1252 (ANSI); guárdelo con una de esas codificaciones."
            ) from error
        except csv.Error as error:  # its text is English: the cause is told here in Spanish
            raise _refuse(
                f"El archivo CSV está mal formado cerca de la línea {reader.line_num}: "
                + (
                    f"una celda pasa de {csv.field_size_limit():,} caracteres"
                    if "field limit" in str(error)
                    else "revise las comillas y los separadores"
                )
                + ". No se aplicó nada."
            ) from error
        finally:
            text.detach()

    return rows()


# --- the preview ------------------------------------------------------------------------------------
class _Plan:
    """Maps the file's columns onto fields and turns rows into CustomerImportRow drafts."""

    def __init__(self, connection, header: list):
        options = connection.options
        self.connection = connection
        self.match_key = options["match_key"]
        self.entity = SalesEntity.objects.select_related("company").get(
            company_id=connection.company_id, code=options["entity"]
        )
        self.company = self.entity.company
        plain = [_plain(_cell_text(h)) for h in header]
        self.headers = {f: options["columns"][f] for f in FIELDS}
        self.columns: dict[str, int] = {}
        for field in FIELDS:
            if field in options["ignored"]:
                continue
            wanted = _plain(self.headers[field])
            if wanted in plain:
                self.columns[field] = plain.index(wanted)
        if not self.columns:
            raise _refuse(
                "La hoja no tiene ninguno de los encabezados configurados en la conexión ("
                + ", ".join(f"«{self.headers[f]}»" for f in FIELDS if f not in options["ignored"])
                + "). Revise el mapeo de columnas o el archivo."
            )
        if self.match_key not in self.columns:
            raise _refuse(
                f"La hoja no tiene la columna «{self.headers[self.match_key]}», que es la llave de coincidencia "
                "de la conexión."
            )
        self.salespeople = {s.number: s for s in Salesperson.objects.filter(company=self.company)}
        self.salespeople_by_pk = {s.pk: s for s in self.salespeople.values()}
        self.entities = {e.pk: e for e in SalesEntity.objects.filter(company=self.company)}
        for entity in self.entities.values():
            entity.company = self.company
        self.seen: dict[str, int] = {}

    def values(self, number: int, cells: list, errors: list) -> dict[str, str] | None:
        values: dict[str, str] = {}
        for field, index in self.columns.items():
            raw = cells[index] if index < len(cells) else None
            text = _cell_text(raw)
            column = self.headers[field]
            if (
                text.startswith(DANGEROUS_START)
                and not (field == "phones" and text.startswith("+") and text[1:2].isdigit())
                and not (field in ("credit_days", "general_discount") and isinstance(raw, int | float))
            ):
                errors.append((number, column, "la celda empieza con «=», «+», «-» o «@» (posible fórmula); "
                               "no se importan fórmulas. Escriba el dato como texto sin ese signo."))  # fmt: skip
                continue
            try:
                values[field] = self._convert(field, text)
            except ValueError as error:
                errors.append((number, column, str(error)))
        return values

    def _convert(self, field: str, text: str) -> str:
        if field == "rfc":
            return normalize_rfc(text)
        if field in ("regimen_fiscal", "uso_cfdi", "forma_pago"):
            code = text.split(" ")[0].split("-")[0].strip().upper()  # "601 - General de Ley" → "601"
            return code.zfill(2) if field == "forma_pago" and code.isdigit() else code
        if field == "postal_code":
            return text.zfill(5) if text.isdigit() else text
        if field == "credit_days":
            try:
                days = int(Decimal(text or "0"))
            except (InvalidOperation, ValueError, OverflowError):  # "abc", "NaN", "inf"
                raise ValueError(f"«{text}» no es un número de días.") from None
            if days < 0:
                raise ValueError("los días de crédito no pueden ser negativos.")
            return str(days)
        if field == "general_discount":
            try:
                return f"{Decimal((text or '0').rstrip('%').strip()):.2f}"
            except InvalidOperation:
                raise ValueError(f"«{text}» no es un porcentaje.") from None
        if field == "salesperson":
            if text in ("", "0"):
                return ""
            person = self.salespeople.get(int(text)) if text.isdigit() else None
            if person is None:
                raise ValueError(f"el vendedor «{text}» no existe en la empresa.")
            return str(person.pk)
        return text

    def key_of(self, values: dict) -> str:
        return values.get(self.match_key, "")

    def existing(self, keys: list[str]) -> dict[str, Customer]:
        """The page's customers already here, one query; their company, entity and salesperson
        are the objects loaded once for the whole file (no join or query per row)."""
        attr = ATTR.get(self.match_key, "rfc")
        queryset = Customer.objects.filter(company=self.company, **{f"{attr}__in": keys}).order_by("-pk")
        found = {}
        for customer in queryset:
            customer.company = self.company
            customer.entity = self.entities.get(customer.entity_id) or customer.entity
            if customer.salesperson_id:
                customer.salesperson = self.salespeople_by_pk.get(customer.salesperson_id)
            found[getattr(customer, attr)] = customer  # the oldest customer with the key is kept
        return found


def build_preview(*, connection, name: str, data, size: int, source: str, queue: bool = False):
    """Read a customer file and store its preview (nothing else is written). ``queue``: mark it
    to be applied by the next run (the FTP path). Raises ``DomainError`` for a file that cannot
    be read as a whole; then nothing is stored."""
    from sync.models import CustomerImport  # noqa: PLC0415

    digest = file_sha256(data)
    rows = read_rows(data, size)
    try:
        with transaction.atomic():
            preview = CustomerImport.objects.create(
                company_id=connection.company_id,
                connection=connection,
                source=source,
                file_name=name[:255],
                sha256=digest,
                size=size,
            )
            plan = None
            batch: list[tuple[int, dict]] = []
            counts = {"rows_read": 0, "to_create": 0, "to_update": 0, "unchanged": 0, "errors": 0}
            for number, cells in rows:
                if plan is None:
                    if not any(_cell_text(c) for c in cells):
                        continue
                    plan = _Plan(connection, cells)
                    continue
                if not any(_cell_text(c) for c in cells):
                    continue
                batch.append((number, cells))
                if len(batch) >= connection.options["page_size"]:
                    _preview_page(plan, preview, batch, counts)
                    batch = []
            if plan is None:
                raise _refuse("El archivo está vacío: no tiene encabezados ni filas.")
            _preview_page(plan, preview, batch, counts)
            if counts["rows_read"] == 0:
                raise _refuse("El archivo solo tiene encabezados: no hay filas de clientes.")
            for field, value in counts.items():
                setattr(preview, field, value)
            preview.status = CustomerImport.Status.QUEUED if queue else CustomerImport.Status.PREVIEW
            preview.message = (
                f"{counts['to_create']} altas, {counts['to_update']} actualizaciones, {counts['unchanged']} sin "
                f"cambios, {counts['errors']} filas con error."
            )
            preview.save(update_fields=[*counts, "status", "message"])
    finally:
        rows.close()
    return preview


def _preview_page(plan: _Plan, preview, batch: list, counts: dict) -> None:
    from sync.models import CustomerImportRow  # noqa: PLC0415

    Action = CustomerImportRow.Action
    drafts: list[CustomerImportRow] = []
    parsed = []
    for number, cells in batch:
        errors: list = []
        values = plan.values(number, cells, errors)
        key = plan.key_of(values)
        counts["rows_read"] += 1
        if not errors and not key:
            errors.append(
                (number, plan.headers[plan.match_key], "falta la llave de coincidencia del cliente.")
            )
        if not errors and plan.match_key == "rfc" and is_generic_rfc(key):
            errors.append((number, plan.headers["rfc"], f"el RFC genérico {key} no identifica a un cliente; "
                           "use la clave como llave de coincidencia para estos clientes."))  # fmt: skip
        if key:
            if key in plan.seen:
                raise _refuse(
                    f"La llave «{key}» aparece dos veces en el archivo (filas {plan.seen[key]} y {number}); "
                    "corrija el archivo. No se aplicó nada."
                )
            plan.seen[key] = number
        parsed.append((number, key, values, errors))
    existing = plan.existing([key for _n, key, _v, errors in parsed if key and not errors])
    for number, key, values, errors in parsed:
        if errors:
            counts["errors"] += 1
            drafts.extend(
                CustomerImportRow(customer_import=preview, row=n, action=Action.ERROR, key=key[:60], column=c,
                                  message=m)
                for n, c, m in errors
            )  # fmt: skip
            continue
        customer = existing.get(key)
        if customer is None:
            candidate = Customer(company=plan.company, entity=plan.entity)
            for field, value in values.items():
                _set(candidate, field, value, plan.salespeople_by_pk)
            error = customer_row_error(candidate, exclude=("number",))
            if error is None:
                counts["to_create"] += 1
                drafts.append(CustomerImportRow(customer_import=preview, row=number, action=Action.CREATE,
                                                key=key[:60], values=_attrs(values)))  # fmt: skip
                continue
        else:
            changes = {f: [_stored(customer, f), v] for f, v in values.items() if _stored(customer, f) != v}
            if not changes:
                counts["unchanged"] += 1
                continue
            for field, (_old, value) in changes.items():
                _set(customer, field, value, plan.salespeople_by_pk)
            error = customer_row_error(customer)
            if error is None:
                counts["to_update"] += 1
                drafts.append(CustomerImportRow(customer_import=preview, row=number, action=Action.UPDATE,
                                                key=key[:60], customer_id=customer.pk, changes=changes))  # fmt: skip
                continue
        counts["errors"] += 1
        for field, messages in _field_messages(error):
            column = plan.headers.get(_field_of(field), field)
            drafts.append(CustomerImportRow(customer_import=preview, row=number, action=Action.ERROR, key=key[:60],
                                            column=column[:120], message=" ".join(messages)))  # fmt: skip
    CustomerImportRow.objects.bulk_create(drafts, batch_size=1000)


def _attrs(values: dict) -> dict:
    """Preview values keyed for ``_set`` (clave stays "clave"; RFC-matched rows keep "rfc")."""
    stored = dict(values)
    if "clave" in stored:
        stored["external_key"] = stored["clave"]
    return stored


def _field_of(model_field: str) -> str:
    return {"external_key": "clave"}.get(model_field, model_field)


def _field_messages(error: ValidationError):
    if hasattr(error, "message_dict"):
        return [(field, [str(m) for m in messages]) for field, messages in error.message_dict.items()]
    return [("", [str(m) for m in error.messages])]
