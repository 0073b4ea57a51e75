"""Aspel SAE: product lines, products, stock, customers, currencies and tax schemes read from
SAE's own Firebird database, the way Aspel CAJA keeps itself equal to SAE (the seed
``aspel-sae-caja-sync``). SAE is the master of these catalogs; this ERP plays CAJA's part.

The connection is read-only (a read-only snapshot transaction: the connector cannot write to
SAE), opened once per run. The tables and the column → field mapping are in ``sae_layout``
(``docs/sync-aspel-sae.md`` for people). A run walks these phases, each in pages; the cursor is
``phase:last key`` so a failed run continues where it stopped, and the last page resets it so
the next run reads SAE whole again (SAE keeps no deletion log: only a full read sees them):

1. ``catalogs``: product lines and currencies (with their exchange rate), one page; the
   configuration checks (tables, columns, warehouses) run before it, so a refused run wrote
   nothing;
2. ``products``: a page of ``INVE`` ordered by key, with the page's ``MULT`` rows; products
   through ``inventory.services.save_products_batch``, then, when "Sincronizar las existencias"
   is on and the company's "Cambio a existencia" too, each difference with SAE's stock becomes
   an audited adjustment through ``inventory.services.adjust_stock`` (its origin names the run);
3. ``customers``: a page of ``CLIE``, through ``sales.services.save_customers_batch``, matched
   by the key in SAE ("Clave en SAE", ``Customer.external_key``);
4. ``missing_products`` (option, off by default): our active products SAE does not have become
   inactive;
5. ``deleted_customers`` (option, on by default): our customers carrying a key in SAE whose key
   SAE no longer has (or marks as baja) become inactive; customers created here are never
   touched.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from firebird.driver import DatabaseError, Isolation, TraAccessMode, connect, tpb

from erp import sat_catalogs
from erp.external import register_owned_fields
from erp.models import Company, Currency, ExchangeRate
from erp.services import save_catalog_row
from inventory.models import Product, ProductLine, Warehouse
from inventory.services import adjust_stock, save_product_lines_batch, save_products_batch
from sales.models import Customer, SalesEntity
from sales.services import save_customers_batch

from . import sae_layout as L
from .base import Connector, EventDraft, Outcome, Page, SourceRefused, SourceUnavailable

PHASES = ("catalogs", "products", "customers", "missing_products", "deleted_customers")
BOOLEAN_OPTIONS = {
    "import_products": True,
    "import_customers": True,
    "import_currencies": True,
    "import_tax_schemes": True,
    "sync_stock": True,
    "deactivate_missing_products": False,
    "deactivate_deleted_customers": True,
}

GDS_NETWORK = {335544721, 335544722, 335544726}
GDS_LOGIN = 335544472
GDS_IO = 335544344


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(str(m) for messages in error.message_dict.values() for m in messages)
    return " ".join(str(m) for m in error.messages)


def _info(message: str, key: str = "", record=None) -> EventDraft:
    return EventDraft(
        "info",
        message,
        record_key=key,
        record_model=record._meta.label_lower if record is not None else "",
        record_id=record.pk if record is not None else None,
    )


class SaeConnector(Connector):
    kind = "sae"

    # --- options ------------------------------------------------------------------------------
    @classmethod
    def clean_options(cls, connection) -> dict:
        options = dict(connection.options or {})
        errors = []
        host = str(options.get("host") or "").strip()
        database = str(options.get("database") or "").strip()
        user = str(options.get("user") or "SYSDBA").strip()
        charset = str(options.get("charset") or "ISO8859_1").strip().upper()
        if not host:
            errors.append("Indique el servidor Firebird de Aspel SAE (nombre o dirección).")
        if not database:
            errors.append("Indique la ruta de la base de datos de Aspel SAE en el servidor (archivo .FDB).")
        try:
            port = int(options.get("port", 3050))
            company_number = int(options.get("company_number", 1))
            page_size = int(options.get("page_size", 1000))
        except (TypeError, ValueError):
            port, company_number, page_size = 0, 0, 0
        if not 1 <= port <= 65535:
            errors.append("El puerto debe estar entre 1 y 65535.")
        if not 1 <= company_number <= 99:
            errors.append("El número de empresa de SAE debe estar entre 1 y 99.")
        if not 100 <= page_size <= 5000:
            errors.append("El tamaño de página debe estar entre 100 y 5000.")
        flags = {}
        for name, default in BOOLEAN_OPTIONS.items():
            value = options.get(name, default)
            if not isinstance(value, bool):
                errors.append(f"La opción «{name}» debe ser verdadero o falso.")
            flags[name] = bool(value)
        warehouse = options.get("warehouse", "")
        if warehouse in (None, "", "todos"):
            warehouse = ""
        else:
            try:
                warehouse = int(warehouse)
            except (TypeError, ValueError):
                warehouse = -1
            if warehouse < 1:
                errors.append("El almacén de SAE es un número (1, 2, …) o vacío para todos.")
        entity_code = str(options.get("entity") or "").strip()
        if flags["import_customers"]:
            if not entity_code:
                errors.append("Indique la entidad de venta que recibe los clientes de SAE.")
            elif (
                connection.company_id
                and not SalesEntity.objects.filter(
                    company_id=connection.company_id, code=entity_code
                ).exists()
            ):
                errors.append(f"La entidad de venta «{entity_code}» no existe en la empresa.")
        if errors:
            raise ValidationError({"options": errors})
        return {
            "host": host,
            "port": port,
            "database": database,
            "user": user,
            "charset": charset,
            "company_number": company_number,
            "page_size": page_size,
            "entity": entity_code,
            "warehouse": warehouse,
            **flags,
        }

    # --- setup --------------------------------------------------------------------------------
    def __init__(self, connection):
        super().__init__(connection)
        self.options = connection.options
        self.number = self.options["company_number"]
        self.page_size = self.options["page_size"]
        self.company = Company.objects.get(pk=connection.company_id)
        self.run_id = type(connection).objects.filter(pk=connection.pk).values_list("lease_run", flat=True)[0]
        self.entity = None
        if self.options["import_customers"]:
            self.entity = SalesEntity.objects.select_related("company").get(
                company_id=connection.company_id, code=self.options["entity"]
            )
        self.sync_stock = self.options["sync_stock"] and self.company.stock_change_from_sync
        self._db = None
        self._tx = None
        self._checked = False
        self._schemes: dict[str, L.TaxProfile | str] | None = None
        self._warehouses: dict[int, Warehouse] = {}  # SAE warehouse number → ours

    def _phases(self) -> list[str]:
        o = self.options
        wanted = {
            "catalogs": True,
            "products": o["import_products"],
            "customers": o["import_customers"],
            "missing_products": o["import_products"] and o["deactivate_missing_products"],
            "deleted_customers": o["import_customers"] and o["deactivate_deleted_customers"],
        }
        return [phase for phase in PHASES if wanted[phase]]

    def _open(self):
        if self._tx is not None:
            return self._tx
        o = self.options
        dsn = f"{o['host']}/{o['port']}:{o['database']}"
        try:
            self._db = connect(
                dsn, user=o["user"], password=self.connection.credentials, charset=o["charset"]
            )
            # Read only, one snapshot for the whole run: pages agree with each other, and the
            # connector cannot write to SAE even by mistake.
            self._tx = self._db.transaction_manager(
                default_tpb=tpb(Isolation.SNAPSHOT, access_mode=TraAccessMode.READ)
            )
            self._tx.begin()
        except DatabaseError as error:
            self.close()
            raise self._translate(error) from error
        except Exception as error:  # no Firebird client library (libfbclient) on this machine
            self.close()
            raise SourceRefused(
                f"No se pudo usar el cliente de Firebird en este servidor (instale libfbclient2): {error}"
            ) from error
        return self._tx

    def _translate(self, error: DatabaseError) -> Exception:
        o = self.options
        codes = set(getattr(error, "gds_codes", ()) or ())
        if codes & GDS_NETWORK:
            return SourceUnavailable(
                f"No se pudo conectar con el servidor Firebird de Aspel SAE en {o['host']}:{o['port']}."
            )
        if GDS_LOGIN in codes:
            return SourceRefused(
                f"El servidor Firebird de Aspel SAE rechazó el usuario «{o['user']}» o su contraseña."
            )
        if GDS_IO in codes:
            return SourceRefused(
                f"El servidor Firebird no encontró la base de datos de Aspel SAE «{o['database']}»."
            )
        return SourceUnavailable(f"Error del servidor Firebird de Aspel SAE: {error}")

    def _query(self, sql: str, params=()) -> list:
        tx = self._open()
        try:
            with tx.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        except DatabaseError as error:
            self.close()  # the next attempt reconnects
            raise self._translate(error) from error

    def close(self) -> None:
        tx, db = self._tx, self._db
        self._tx = self._db = None
        try:
            if tx is not None:
                tx.rollback()
                tx.close()
        except DatabaseError:
            pass
        try:
            if db is not None:
                db.close()
        except DatabaseError:
            pass

    # --- configuration checks (before anything is written) -------------------------------------
    def _needed_tables(self) -> list[str]:
        o = self.options
        bases = []
        if o["import_products"]:
            bases += [L.PRODUCTS, L.LINES, L.TAX_SCHEMES]
            if self.sync_stock:
                bases += [L.STOCK, L.WAREHOUSES]
        if o["import_customers"]:
            bases.append(L.CUSTOMERS)
        if o["import_currencies"]:
            bases.append(L.CURRENCIES)
        return bases

    def _check(self) -> list[EventDraft]:
        warnings: list[EventDraft] = []
        rows = self._query(
            "SELECT TRIM(r.RDB$RELATION_NAME), TRIM(f.RDB$FIELD_NAME) FROM RDB$RELATIONS r "
            "JOIN RDB$RELATION_FIELDS f ON f.RDB$RELATION_NAME = r.RDB$RELATION_NAME "
            "WHERE COALESCE(r.RDB$SYSTEM_FLAG, 0) = 0"
        )
        columns: dict[str, set[str]] = {}
        for name, field in rows:
            columns.setdefault(name, set()).add(field)
        if not any(name.startswith(L.PRODUCTS) or name.startswith(L.CUSTOMERS) for name in columns):
            raise SourceRefused(
                "La base de datos no tiene las tablas de Aspel SAE (INVE, CLIE, …): revise la ruta de la base."
            )
        needed = self._needed_tables()
        missing_tables = [L.table(b, self.number) for b in needed if L.table(b, self.number) not in columns]
        if missing_tables and len(missing_tables) == len(needed):
            raise SourceRefused(
                f"La empresa {self.number:02d} no existe en la base de Aspel SAE: faltan sus tablas "
                f"({', '.join(missing_tables)})."
            )
        if missing_tables:
            raise SourceRefused(
                f"A la empresa {self.number:02d} de Aspel SAE le faltan las tablas {', '.join(missing_tables)}."
            )
        for base in needed:
            name = L.table(base, self.number)
            absent = [c for c in L.COLUMNS[base] if c not in columns[name]]
            if absent:
                raise SourceRefused(
                    f"La tabla {name} de Aspel SAE no tiene las columnas {', '.join(absent)}: la versión "
                    "de SAE no es compatible (se requiere SAE 8.0 o posterior)."
                )
        if self.options["sync_stock"] and not self.company.stock_change_from_sync:
            warnings.append(
                EventDraft(
                    "warning",
                    "Las existencias no se sincronizaron: la empresa no tiene activo el parámetro "
                    "«Cambio a existencia».",
                )
            )
        if self.sync_stock:
            warnings += self._check_warehouses()
        return warnings

    def _check_warehouses(self) -> list[EventDraft]:
        sae = {
            int(row[0]): L.text(row[1])
            for row in self._query(L.select(L.WAREHOUSES, self.number, order="CVE_ALM"))
        }
        chosen = self.options["warehouse"]
        if chosen and chosen not in sae:
            raise SourceRefused(f"El almacén {chosen} no existe en Aspel SAE (empresa {self.number:02d}).")
        numbers = [chosen] if chosen else sorted(sae)
        ours = {
            w.code: w
            for w in Warehouse.objects.filter(
                company=self.company, code__in=[str(n) for n in numbers]
            ).select_related("company", "inventory_account")
        }
        warnings = []
        for n in numbers:
            warehouse = ours.get(str(n))
            if warehouse is None or not warehouse.active:
                warnings.append(
                    EventDraft(
                        "warning",
                        f"El almacén {n} de Aspel SAE ({sae[n]}) no tiene una bodega activa con la clave "
                        f"«{n}» en esta empresa: sus existencias no se sincronizan.",
                        record_key=str(n),
                    )
                )
                continue
            self._warehouses[n] = warehouse
        return warnings

    def _tax_schemes(self) -> dict[str, L.TaxProfile | str]:
        if self._schemes is None:
            self._schemes = {}
            for row in self._query(L.select(L.TAX_SCHEMES, self.number)):
                scheme = L.as_dict(L.TAX_SCHEMES, row)
                try:
                    self._schemes[L.text(scheme["CVE_ESQIMPU"])] = L.tax_profile(scheme)
                except L.UnmappableScheme as error:
                    self._schemes[L.text(scheme["CVE_ESQIMPU"])] = str(error)
        return self._schemes

    # --- reading ------------------------------------------------------------------------------
    def read_page(self, cursor: str) -> Page:
        phases = self._phases()
        phase, _, after = cursor.partition(":")
        if phase not in phases:
            phase, after = phases[0], ""
        if not self._checked:
            warnings = self._check()
            self._checked = True
        else:
            warnings = []
        reader = getattr(self, f"_read_{phase}")
        payload, last, more = reader(after)
        payload["phase"] = phase
        payload["warnings"] = warnings
        if more:
            return Page(records=[payload], cursor=f"{phase}:{last}", has_more=True)
        following = phases[phases.index(phase) + 1 :]
        if following:
            return Page(records=[payload], cursor=f"{following[0]}:", has_more=True)
        return Page(records=[payload], cursor="", has_more=False)

    def _read_catalogs(self, after: str):
        payload = {"lines": [], "currencies": []}
        if self.options["import_products"]:
            payload["lines"] = [
                L.as_dict(L.LINES, r) for r in self._query(L.select(L.LINES, self.number, order="CVE_LIN"))
            ]
        if self.options["import_currencies"]:
            payload["currencies"] = [
                L.as_dict(L.CURRENCIES, r)
                for r in self._query(L.select(L.CURRENCIES, self.number, order="NUM_MONED"))
            ]
        return payload, "", False

    def _read_products(self, after: str):
        numbers = sorted(self._warehouses)  # SAE's warehouses matched to ours (stock synchronised)
        rows = self._query(L.select_products_with_stock(self.number, numbers, first=self.page_size), [after])
        width = len(L.COLUMNS[L.PRODUCTS])
        products = [L.as_dict(L.PRODUCTS, r[:width]) for r in rows]
        stock: dict[tuple[str, int], object] = {
            (L.text(r[0]), n): value for r in rows for n, value in zip(numbers, r[width:], strict=True)
        }
        last = products[-1]["CVE_ART"].rstrip() if products else after
        return {"products": products, "stock": stock}, last, len(products) == self.page_size

    def _read_customers(self, after: str):
        rows = self._query(
            L.select(L.CUSTOMERS, self.number, where="CLAVE > ?", order="CLAVE", first=self.page_size),
            [after],
        )
        customers = [L.as_dict(L.CUSTOMERS, r) for r in rows]
        last = customers[-1]["CLAVE"].rstrip() if customers else after
        return {"customers": customers}, last, len(customers) == self.page_size

    def _present(self, base: str, width: int, condition: str, keys: list[str]) -> set[str]:
        """Which of ``keys`` SAE has (``sae_layout.select_present_keys``)."""
        keys = [key for key in keys if len(key) <= width]  # longer: SAE cannot hold it
        if not keys:
            return set()
        sql = L.select_present_keys(base, self.number, width, condition=condition)
        return {L.text(r[0]) for r in self._query(sql, [L.pack_keys(keys, width)])}

    def _read_missing_products(self, after: str):
        size = L.keys_per_call(L.PRODUCT_KEY_WIDTH)
        chunk = list(
            Product.objects.filter(company=self.company, active=True, pk__gt=int(after or 0))
            .order_by("pk")
            .values_list("pk", "code")[:size]
        )
        present = self._present(
            L.PRODUCTS, L.PRODUCT_KEY_WIDTH, L.PRODUCT_PRESENT, [code for _, code in chunk]
        )
        missing = [pk for pk, code in chunk if code not in present]
        last = chunk[-1][0] if chunk else after
        return {"missing": missing}, last, len(chunk) == size

    def _read_deleted_customers(self, after: str):
        size = L.keys_per_call(L.CUSTOMER_KEY_WIDTH)
        chunk = list(
            # the connection's entity: where its customers were created (another system's keys
            # in another entity are not SAE's)
            Customer.objects.filter(entity=self.entity, active=True, pk__gt=int(after or 0))
            .exclude(external_key="")
            .order_by("pk")
            .values_list("pk", "external_key")[:size]
        )
        alive = self._present(L.CUSTOMERS, L.CUSTOMER_KEY_WIDTH, L.CUSTOMER_ALIVE, [key for _, key in chunk])
        gone = [pk for pk, key in chunk if key not in alive]
        last = chunk[-1][0] if chunk else after
        return {"gone": gone}, last, len(chunk) == size

    # --- writing ------------------------------------------------------------------------------
    def write_page(self, page: Page) -> Outcome:
        outcome = Outcome()
        for payload in page.records:
            outcome.events.extend(payload["warnings"])
            getattr(self, f"_write_{payload['phase']}")(payload, outcome)
        return outcome

    def _write_catalogs(self, payload: dict, outcome: Outcome) -> None:
        self._write_lines(payload["lines"], outcome)
        self._write_currencies(payload["currencies"], outcome)

    def _write_lines(self, rows: list[dict], outcome: Outcome) -> None:
        if not rows:
            return
        values = [L.line_values(r) for r in rows]
        existing = {
            line.code: line
            for line in ProductLine.objects.filter(company=self.company, code__in=[v["code"] for v in values])
        }
        new, changed = [], []
        for v in values:
            line = existing.get(v["code"])
            if line is None:
                new.append(ProductLine(**v))
            elif line.name != v["name"]:
                line.name = v["name"]
                changed.append(line)
            else:
                outcome.unchanged += 1
        rejected = save_product_lines_batch(company=self.company, new=new, changed=changed)
        bad = {id(line) for line, _ in rejected}
        for line, error in rejected:
            outcome.error(f"Línea {line.code} no sincronizada: {_error_text(error)}", key=line.code)
        for line in new:
            if id(line) not in bad:
                outcome.created += 1
                outcome.events.append(_info(f"Línea {line.code} dada de alta: {line.name}.", line.code, line))
        for line in changed:
            if id(line) not in bad:
                outcome.updated += 1
                outcome.events.append(_info(f"Línea {line.code} actualizada desde SAE.", line.code, line))

    def _write_currencies(self, rows: list[dict], outcome: Outcome) -> None:
        for row in rows:
            v = L.currency_values(row)
            code = v["code"]
            number = L.text(row["NUM_MONED"])
            if not code or sat_catalogs.currency_decimals(code) is None:
                outcome.error(
                    f"La moneda {number} ({v['name']}) de SAE no tiene una clave del catálogo c_Moneda del "
                    "SAT; se omitió.",
                    key=number,
                )
                continue
            currency = Currency.objects.filter(code=code).first()
            if currency is None:
                currency = save_catalog_row(
                    instance=Currency(
                        code=code, name=v["name"] or code, decimals=sat_catalogs.currency_decimals(code)
                    )
                )
                outcome.created += 1
                outcome.events.append(_info(f"Moneda {code} dada de alta.", code, currency))
            if currency.is_national or v["rate"] <= 0 or v["date"] is None:
                outcome.unchanged += 1
                continue
            rate = ExchangeRate.objects.filter(
                company=self.company, currency=currency, date=v["date"]
            ).first()
            if rate is not None and rate.rate == v["rate"]:
                outcome.unchanged += 1
                continue
            if rate is None:
                rate = ExchangeRate(company=self.company, currency=currency, date=v["date"])
            rate.rate = v["rate"]
            is_new = rate.pk is None
            save_catalog_row(instance=rate)
            if is_new:
                outcome.created += 1
            else:
                outcome.updated += 1
            outcome.events.append(
                _info(f"Tipo de cambio de {code} al {v['date']:%d/%m/%Y}: {v['rate']}.", code, rate)
            )

    def _write_products(self, payload: dict, outcome: Outcome) -> None:
        rows = payload["products"]
        if not rows:
            return
        schemes = self._tax_schemes() if self.options["import_tax_schemes"] else {}
        values = [L.product_values(r) for r in rows]
        codes = [v["code"] for v in values]
        existing = {
            p.code: p
            for p in Product.objects.filter(company=self.company, code__in=codes).select_related("line")
        }
        lines = {
            line.code: line
            for line in ProductLine.objects.filter(
                company=self.company, code__in={L.text(r["LIN_PROD"]) for r in rows}
            )
        }
        fields = L.PRODUCT_FIELDS + (L.PRODUCT_TAX_FIELDS if self.options["import_tax_schemes"] else [])
        new, changed, costs, kept = [], [], {}, {}
        for row, v in zip(rows, values, strict=True):
            code = v["code"]
            line_code = L.text(row["LIN_PROD"])
            line = lines.get(line_code) if line_code else None
            if line_code and line is None:
                outcome.error(
                    f"Producto {code} no sincronizado: su línea «{line_code}» no existe en Aspel SAE.",
                    key=code,
                )
                continue
            v["line"] = line
            if self.options["import_tax_schemes"]:
                scheme_key = L.text(row["CVE_ESQIMPU"])
                profile = schemes.get(scheme_key)
                if not isinstance(profile, L.TaxProfile):
                    reason = profile or f"El esquema de impuestos {scheme_key} no existe en Aspel SAE."
                    outcome.error(f"Producto {code} no sincronizado: {reason}", key=code)
                    continue
                v["iva_treatment"], v["ieps_rate"] = profile.iva_treatment, profile.ieps_rate
            costs[code] = L.product_cost(row)
            product = existing.get(code)
            if product is None:
                product = Product(external_key=code, **v)
                new.append(product)
            elif product.external_key == code and all(getattr(product, f) == v[f] for f in fields):
                outcome.unchanged += 1
            else:
                for name in fields:
                    setattr(product, name, v[name])
                product.external_key = code
                changed.append(product)
            kept[code] = product
        # Only the fields SAE sets are validated (with the product's own ``clean``).
        rejected = save_products_batch(
            company=self.company,
            new=new,
            changed=changed,
            fields=[*fields, "external_key"],
            checked=["code", *fields, "external_key"],
        )
        bad = {id(p) for p, _ in rejected}
        for product, error in rejected:
            outcome.error(f"Producto {product.code} no sincronizado: {_error_text(error)}", key=product.code)
            kept.pop(product.code, None)
        created = [p for p in new if id(p) not in bad]
        outcome.created += len(created)
        if created:
            outcome.events.append(
                _info(
                    f"Productos dados de alta desde SAE: {len(created)} ({created[0].code} a {created[-1].code})."
                )
            )
        for product in changed:
            if id(product) not in bad:
                outcome.updated += 1
                outcome.events.append(
                    _info(f"Producto {product.code} actualizado desde SAE.", product.code, product)
                )
        if self.sync_stock:
            self._write_stock(kept, costs, payload["stock"], outcome, new={p.pk for p in created})

    def _write_stock(self, products: dict, costs: dict, stock: dict, outcome: Outcome, new: set) -> None:
        """``new``: ids of the products this page created (this transaction's: no stock yet)."""
        today = timezone.localdate()
        origin = f"SAE|{self.run_id}|{self.connection.pk}||"
        concept = (
            f"Ajuste por sincronización con Aspel SAE «{self.connection.name}» (ejecución #{self.run_id})"
        )
        for number, warehouse in self._warehouses.items():
            counts = []
            for code, product in products.items():
                if product.is_service:
                    continue
                quantity = L.number(stock.get((code, number)), 4)
                if quantity < 0 and not warehouse.allow_negative_stock:
                    outcome.error(
                        f"Existencia de {code} en el almacén {number} no sincronizada: SAE tiene {quantity.normalize():f} "
                        f"y la bodega {warehouse.code} no permite existencias negativas.",
                        key=code,
                    )
                    continue
                counts.append({"product": product, "quantity": quantity, "unit_cost": costs[code]})
            if not counts:
                continue
            try:
                movements = adjust_stock(
                    company=self.company,
                    warehouse=warehouse,
                    date=today,
                    concept=concept,
                    origin=origin,
                    counts=counts,
                    new_products=new,
                )
            except Exception as error:  # DomainError: missing accounts, closed period…
                message = getattr(error, "message", str(error))
                outcome.error(
                    f"Existencias del almacén {number} no sincronizadas en esta página: {message}",
                    key=str(number),
                )
                continue
            for movement in movements:
                lines = movement.lines.count()
                outcome.updated += lines
                outcome.events.append(
                    _info(
                        f"{movement.get_kind_display()} de ajuste en la bodega {warehouse.code}: {lines} "
                        f"productos igualados a las existencias de SAE.",
                        str(number),
                        movement,
                    )
                )

    def _write_customers(self, payload: dict, outcome: Outcome) -> None:
        rows = payload["customers"]
        if not rows:
            return
        keys = [L.text(r["CLAVE"]) for r in rows]
        existing = {
            c.external_key: c
            for c in Customer.objects.filter(company=self.company, external_key__in=keys).select_related(
                "company", "entity"
            )
        }
        deactivate_deleted = self.options["deactivate_deleted_customers"]
        new, changed, deactivated = [], [], []
        for row, key in zip(rows, keys, strict=True):
            customer = existing.get(key)
            if L.customer_deleted(row):
                if customer is not None and customer.active and deactivate_deleted:
                    customer.active = False
                    deactivated.append(customer)
                else:
                    outcome.unchanged += 1
                continue
            v = L.customer_values(row)
            if customer is None:
                new.append(Customer(external_key=key, **v))
            elif all(getattr(customer, f) == v[f] for f in L.CUSTOMER_FIELDS):
                outcome.unchanged += 1
            else:
                for name, value in v.items():
                    setattr(customer, name, value)
                changed.append(customer)
        # Only the fields SAE sets are validated (with the customer's own ``clean``), as QR does.
        rejected = save_customers_batch(
            entity=self.entity,
            new=new,
            changed=changed + deactivated,
            fields=L.CUSTOMER_FIELDS,
            checked=[*L.CUSTOMER_FIELDS, "external_key"],
        )
        bad = {id(c) for c, _ in rejected}
        for customer, error in rejected:
            key = customer.external_key
            outcome.error(f"Cliente {key} ({customer.rfc}) no sincronizado: {_error_text(error)}", key=key)
        created = [c for c in new if id(c) not in bad]
        outcome.created += len(created)
        if created:
            outcome.events.append(
                _info(
                    f"Clientes dados de alta desde SAE: {len(created)} "
                    f"(claves {created[0].external_key} a {created[-1].external_key})."
                )
            )
        for customer in changed:
            if id(customer) not in bad:
                outcome.updated += 1
                outcome.events.append(
                    _info(
                        f"Cliente {customer.external_key} actualizado desde SAE.",
                        customer.external_key,
                        customer,
                    )
                )
        for customer in deactivated:
            if id(customer) not in bad:
                outcome.deactivated += 1
                outcome.events.append(
                    _info(
                        f"Cliente {customer.external_key} desactivado: está dado de baja en Aspel SAE.",
                        customer.external_key,
                        customer,
                    )
                )

    def _write_missing_products(self, payload: dict, outcome: Outcome) -> None:
        ids = payload["missing"]
        if not ids:
            return
        products = list(Product.objects.filter(pk__in=ids, active=True))
        Product.objects.filter(pk__in=[p.pk for p in products]).update(active=False)
        outcome.deactivated += len(products)
        for product in products:
            outcome.events.append(
                _info(f"Producto {product.code} desactivado: no existe en Aspel SAE.", product.code, product)
            )

    def _write_deleted_customers(self, payload: dict, outcome: Outcome) -> None:
        ids = payload["gone"]
        if not ids:
            return
        customers = list(Customer.objects.filter(Q(pk__in=ids), active=True).exclude(external_key=""))
        Customer.objects.filter(pk__in=[c.pk for c in customers]).update(active=False)
        outcome.deactivated += len(customers)
        for customer in customers:
            outcome.events.append(
                _info(
                    f"Cliente {customer.external_key} desactivado: fue eliminado en Aspel SAE.",
                    customer.external_key,
                    customer,
                )
            )


# --- what SAE owns once a row came from it (the admin shows it read-only) -----------------------


def _sae_options(company_id: int) -> list[dict]:
    connections = apps.get_model("sync", "Connection").objects  # sync.models imports this module
    return list(
        connections.filter(company_id=company_id, kind=SaeConnector.kind).values_list("options", flat=True)
    )


def _owned_product(product) -> tuple[str, list[str]] | None:
    if not product.external_key:
        return None
    options = [o for o in _sae_options(product.company_id) if o.get("import_products")]
    if not options:
        return None
    taxes_owned = any(o.get("import_tax_schemes") for o in options)
    return "Aspel SAE", L.PRODUCT_FIELDS + (L.PRODUCT_TAX_FIELDS if taxes_owned else [])


def _owned_customer(customer) -> tuple[str, list[str]] | None:
    if not customer.external_key:
        return None
    if not any(o.get("import_customers") for o in _sae_options(customer.company_id)):
        return None
    return "Aspel SAE", list(L.CUSTOMER_FIELDS)


def register_owned() -> None:
    register_owned_fields("inventory.product", _owned_product)
    register_owned_fields("sales.customer", _owned_customer)
