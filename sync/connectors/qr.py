"""CONTPAQi QR customers: the receivers of the invoices QR issues become customers here.

The contract implemented (QR's API is not public) is in ``docs/sync-contpaqi-qr.md``. The seed's
rules (``contpaqi-qr-customer-sync``), all applied by ``write_page``:

- the match is by RFC, within the company;
- an unknown RFC creates the customer with the seven fields (RFC, razón social, régimen, correo,
  C.P., uso CFDI, forma de pago) in the connection's sales entity; persona moral or física
  follows from the RFC's structure (``erp.rfc.person_type``: the customer computes it);
- a known RFC updates only régimen, correo, C.P., uso CFDI and forma de pago — never the name;
- a company still on Anexo 20 3.3 gets uso CFDI blank, for the user to assign;
- a record the customer form would refuse (RFC, régimen, C.P., ...) is an event, not a crash.
"""

from __future__ import annotations

import http.client
import json
import operator
import urllib.error
import urllib.parse
import urllib.request

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from erp.bulk import oldest_by_key
from erp.rfc import is_generic_rfc, normalize_rfc
from sales.models import Customer, SalesEntity
from sales.services import save_customers_batch

from .base import Connector, EventDraft, Outcome, Page, SourceRefused, SourceUnavailable, paging_options

UPDATED_FIELDS = ["regimen_fiscal", "email", "postal_code", "uso_cfdi", "forma_pago"]
CHECKED_FIELDS = ["rfc", "name", *UPDATED_FIELDS]  # what the connector sets: their rules run
LABELS = {name: Customer._meta.get_field(name).verbose_name for name in UPDATED_FIELDS}
COLUMNS = [f.attname for f in Customer._meta.concrete_fields]  # a held customer's row, as stored
_stored = operator.itemgetter(*(COLUMNS.index(name) for name in UPDATED_FIELDS))
MAX_REPLY_BYTES = 50 * 1024 * 1024


def _text(record: dict, key: str) -> str:
    value = record.get(key)
    return "" if value is None else str(value).strip()


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(str(m) for messages in error.message_dict.values() for m in messages)
    return " ".join(str(m) for m in error.messages)


class QrCustomersConnector(Connector):
    kind = "qr_customers"

    @classmethod
    def clean_options(cls, connection) -> dict:
        options = dict(connection.options or {})
        errors = []
        url = str(options.get("base_url") or "").strip()
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors.append("Indique la URL de CONTPAQi QR (http o https).")
        entity_code = str(options.get("entity") or "").strip()
        if not entity_code:
            errors.append("Indique la entidad de venta que recibe los clientes.")
        elif (
            connection.company_id
            and not SalesEntity.objects.filter(company_id=connection.company_id, code=entity_code).exists()
        ):
            errors.append(f"La entidad de venta «{entity_code}» no existe en la empresa.")
        page_size, timeout = paging_options(options, errors, page_size=500, page_max=5000, timeout=10)
        if errors:
            raise ValidationError({"options": errors})
        return {"base_url": url, "entity": entity_code, "page_size": page_size, "timeout_seconds": timeout}

    def __init__(self, connection):
        super().__init__(connection)
        options = connection.options
        self.url = options["base_url"].rstrip("/") + "/api/v1/receptores"
        self.page_size = options["page_size"]
        self.timeout = options["timeout_seconds"]
        self.entity = SalesEntity.objects.select_related("company").get(
            company_id=connection.company_id, code=options["entity"]
        )
        self.blank_uso = self.entity.company.cfdi_version == "3.3"
        self._entities = {self.entity.pk: self.entity}  # the company's sales entities, read once

    # --- reading ------------------------------------------------------------------------------
    def read_page(self, cursor: str) -> Page:
        query = urllib.parse.urlencode({"desde": cursor, "limite": self.page_size})
        request = urllib.request.Request(
            f"{self.url}?{query}",
            headers={"Authorization": f"Bearer {self.connection.credentials}", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                body = reply.read(MAX_REPLY_BYTES + 1)
        except urllib.error.HTTPError as error:
            if error.code in (401, 403):
                raise SourceRefused(
                    f"CONTPAQi QR rechazó las credenciales de la conexión (HTTP {error.code})."
                ) from error
            if error.code >= 500:
                raise SourceUnavailable(f"CONTPAQi QR respondió con error HTTP {error.code}.") from error
            raise SourceRefused(f"CONTPAQi QR rechazó la consulta (HTTP {error.code}).") from error
        except TimeoutError as error:
            raise SourceUnavailable(f"CONTPAQi QR no respondió en {self.timeout:g} segundos.") from error
        except (OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise SourceUnavailable(f"CONTPAQi QR no respondió en {self.timeout:g} segundos.") from error
            raise SourceUnavailable(f"No se pudo conectar con CONTPAQi QR: {reason}.") from error
        if len(body) > MAX_REPLY_BYTES:
            raise SourceUnavailable("La respuesta de CONTPAQi QR excede el tamaño permitido.")
        try:
            data = json.loads(body)
            records = data["receptores"]
            next_cursor = data["cursor"]
            has_more = data["hay_mas"]
            if (
                not isinstance(records, list)
                or not isinstance(next_cursor, str)
                or not isinstance(has_more, bool)
            ):
                raise TypeError
        except (ValueError, KeyError, TypeError) as error:
            raise SourceUnavailable(
                "La respuesta de CONTPAQi QR no tiene el formato esperado (JSON con receptores, cursor y hay_mas)."
            ) from error
        return Page(records=records, cursor=next_cursor, has_more=has_more)

    # --- writing ------------------------------------------------------------------------------
    def write_page(self, page: Page) -> Outcome:
        outcome = Outcome()
        latest: dict[str, dict] = {}  # the same receiver twice in a page: its last invoice wins
        for record in page.records:
            if not isinstance(record, dict):
                outcome.error("Registro de CONTPAQi QR sin formato de receptor; se omitió.")
                continue
            rfc = normalize_rfc(_text(record, "rfc_receptor"))
            if not rfc:
                outcome.error("Receptor sin RFC; se omitió.")
                continue
            if is_generic_rfc(rfc):
                outcome.unchanged += 1
                outcome.events.append(
                    _info(f"RFC genérico {rfc}: se factura a público en general, no se da de alta.", rfc)
                )
                continue
            latest.pop(rfc, None)
            latest[rfc] = record
        # What QR sends is compared with what we hold, for the whole page in one query of plain
        # rows: an unchanged receiver is counted and left alone (not loaded as a customer, not
        # validated, not written, no event); only a changed one becomes a customer to update.
        held = self._held_by_rfc(list(latest))
        blank_uso = self.blank_uso
        new, changed, changes = [], [], {}
        labels = {name: str(label) for name, label in LABELS.items()}  # translated once a page
        for rfc, record in latest.items():
            values = (
                _text(record, "regimen_fiscal"),
                _text(record, "correo"),
                _text(record, "codigo_postal"),
                "" if blank_uso else _text(record, "uso_cfdi"),
                _text(record, "forma_pago") or "99",
            )
            row = held.get(rfc)
            if row is None:
                new.append(
                    Customer(
                        rfc=rfc,
                        name=_text(record, "razon_social"),
                        **dict(zip(UPDATED_FIELDS, values, strict=True)),
                    )
                )
                continue
            stored = _stored(row)
            if stored == values:
                outcome.unchanged += 1
                continue
            customer = self._customer(row)
            for name, value in zip(UPDATED_FIELDS, values, strict=True):
                setattr(customer, name, value)
            changed.append(customer)
            changes[id(customer)] = [
                name for name, old, value in zip(UPDATED_FIELDS, stored, values, strict=True) if old != value
            ]
        rejected = save_customers_batch(
            entity=self.entity,
            new=new,
            changed=changed,
            fields=UPDATED_FIELDS,
            checked=CHECKED_FIELDS,
            changed_fields=changes,
        )
        rejected_ids = {id(customer) for customer, _ in rejected}
        for customer, error in rejected:
            outcome.error(f"Cliente {customer.rfc} no sincronizado: {_error_text(error)}", key=customer.rfc)
        for customer in new:
            if id(customer) not in rejected_ids:
                outcome.created += 1
                outcome.events.append(
                    _info(f"Cliente {customer.rfc} dado de alta: {customer.name}.", customer.rfc, customer)
                )
        for customer in changed:
            if id(customer) not in rejected_ids:
                outcome.updated += 1
                what = ", ".join(labels[name] for name in changes[id(customer)])
                outcome.events.append(
                    _info(
                        f"Cliente {customer.rfc} actualizado desde CONTPAQi QR ({what}).",
                        customer.rfc,
                        customer,
                    )
                )
        return outcome

    def _held_by_rfc(self, rfcs: list[str]) -> dict[str, tuple]:
        """The page's known customers as plain rows (``COLUMNS``), by RFC, in one statement (the
        oldest customer with the RFC is the one kept)."""
        return oldest_by_key(
            Customer, company_id=self.connection.company_id, key="rfc", values=rfcs, fields=COLUMNS
        )

    def _customer(self, row: tuple) -> Customer:
        """A held row as the customer to update, with what its ``clean`` reads (entity and
        company) from memory: the company's sales entities are read once per connector."""
        customer = Customer.from_db(Customer.objects.db, COLUMNS, row)
        entities = self._entities
        if customer.entity_id not in entities:
            entities.update(
                (e.pk, e)
                for e in SalesEntity.objects.filter(company_id=customer.company_id).select_related("company")
            )
        entity = entities[customer.entity_id]
        # Cached as the row's own relations (its ids are already set): no descriptor checks per row.
        Customer.entity.field.set_cached_value(customer, entity)
        Customer.company.field.set_cached_value(customer, entity.company)
        return customer


def _info(message: str, key: str, customer: Customer | None = None):
    return EventDraft(
        "info",
        message,
        record_key=key,
        record_model="sales.customer" if customer is not None else "",
        record_id=customer.pk if customer is not None else None,
    )
