"""CONTPAQi Wopen: orders and invoice requests come in; invoices are stamped here.

Wopen (a web CRM and order system) cannot stamp. The contract implemented (Wopen's API is not
public) is in ``docs/sync-contpaqi-wopen.md``. The seed's rules (``contpaqi-wopen-connection``):

- options per company: "Sincronizar" and the period are the engine's; "Sincronización Pedidos"
  (``orders``), "Sincronización Facturas" (``invoices``), "Sucursal" (``entity``: the sales entity
  that receives the documents), "Timbrado de factura automática" (``auto_stamp``), the optional
  default "Clave Prod/Serv" and "Clave Unidad" for products missing here (every such product gets
  the same keys), Wopen's URL and user; the password is the connection's encrypted credentials.
  None is checked against Wopen when saved: a wrong one shows up as the run's event;
- one Wopen URL belongs to one company only;
- an order becomes a sales order and an invoice request an invoice, through ``sales.documents``
  and ``sales.posting`` like a typed document. The customer is matched by RFC in the entity, or
  created from the document's fiscal data through ``sales.services.save_customers_batch`` (the
  customer form's validation);
- with ``auto_stamp`` the invoice is posted (its CFDI is then sealed and stamped by the pipeline
  after commit, path E) and, once stamped, its number, UUID, XML and PDF links are reported back
  (``after_pages``); without it the invoice waits as a draft for a cashier to review and post;
- exactly once: ``WopenDocument`` (unique by company, kind and Wopen id) is written
  in the same savepoint as the document. Each document has its own savepoint, so one refused
  document (invalid RFC, a CFDI the checker refuses, no stock) is an event with its Wopen id and
  the page goes on.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from cashbank.models import CashBankAccount, PaymentMethod
from cfdi.models import CfdiDocument
from erp.errors import DomainError
from erp.models import Currency
from erp.rfc import is_generic_rfc, normalize_rfc
from erp.services import save_catalog_row
from erp.validators import validate_clave_prod_serv, validate_clave_unidad
from inventory.models import Product
from sales.cfdi_mapping import SOURCE_MODEL
from sales.document_models import DocumentKind, Payment, SalesDocument
from sales.documents import LineRequest, create_document
from sales.invoice_cfdi import company_can_seal
from sales.models import Customer, SalesEntity
from sales.posting import Collection, post_invoice
from sales.services import ensure_counter_customer, save_customers_batch

from .base import Connector, EventDraft, Outcome, Page, SourceRefused, SourceUnavailable, paging_options

MAX_REPLY_BYTES = 20 * 1024 * 1024
SERVICE_UNIT = "E48"  # SAT's "Unidad de servicio": a product created with it moves no stock
LABELS = {"pedido": "Pedido", "factura": "Factura"}
URL_TAKEN = (
    "La URL de CONTPAQi Wopen ya está configurada en otra empresa: una URL de Wopen solo puede "
    "usarse en una sola empresa."
)
DEFAULT_ERP_URL = "http://127.0.0.1:8000"


def normalize_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    return urllib.parse.urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", "")
    )


def _flag(value, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "si", "sí", "on", "yes")
    return bool(value)


def _error_text(error) -> str:
    if isinstance(error, DomainError):
        return error.message
    if hasattr(error, "message_dict"):
        return " ".join(str(m) for messages in error.message_dict.values() for m in messages)
    return " ".join(str(m) for m in error.messages)


class BadRecord(ValueError):
    """A Wopen document this contract cannot read (a Spanish reason)."""


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


def _decimal(data: dict, key: str, label: str, default: str | None = None) -> Decimal:
    raw = data.get(key)
    if raw is None or raw == "":
        if default is None:
            raise BadRecord(f"falta {label}")
        raw = default
    try:
        value = Decimal(str(raw))
    except InvalidOperation as error:
        raise BadRecord(f"{label} «{raw}» no es un número") from error
    if not value.is_finite():
        raise BadRecord(f"{label} «{raw}» no es un número")
    return value


@dataclass
class WopenLine:
    code: str
    description: str
    quantity: Decimal
    price: Decimal
    discount: Decimal
    iva: Decimal | None


@dataclass
class WopenRecord:
    id: str
    kind: str
    date: str
    currency: str
    exchange_rate: Decimal
    method: str  # PUE or PPD
    payment_form: str
    reference: str
    observations: str
    customer: dict
    lines: list[WopenLine]

    @property
    def label(self) -> str:
        return f"{LABELS.get(self.kind, 'Documento')} Wopen {self.id}"

    @classmethod
    def parse(cls, data) -> WopenRecord:
        if not isinstance(data, dict):
            raise BadRecord("el documento no tiene el formato del contrato")
        kind = _text(data, "tipo")
        if kind not in LABELS:
            raise BadRecord(f"tipo de documento «{kind}» desconocido (pedido o factura)")
        customer = data.get("cliente")
        if not isinstance(customer, dict):
            raise BadRecord("falta el cliente")
        lines = data.get("partidas")
        if not isinstance(lines, list) or not lines:
            raise BadRecord("el documento no tiene partidas")
        parsed = []
        for position, line in enumerate(lines, start=1):
            if not isinstance(line, dict) or not _text(line, "codigo"):
                raise BadRecord(f"la partida {position} no tiene código de producto")
            iva = line.get("iva")
            parsed.append(
                WopenLine(
                    code=_text(line, "codigo")[:30],
                    description=_text(line, "descripcion")[:1000],
                    quantity=_decimal(line, "cantidad", f"la cantidad de la partida {position}"),
                    price=_decimal(line, "precio", f"el precio de la partida {position}"),
                    discount=_decimal(line, "descuento", f"el descuento de la partida {position}", "0"),
                    iva=None
                    if iva in (None, "")
                    else _decimal(line, "iva", f"el IVA de la partida {position}"),
                )
            )
        method = _text(data, "metodo_pago").upper() or "PPD"
        if method not in ("PUE", "PPD"):
            raise BadRecord(f"método de pago «{method}» desconocido (PUE o PPD)")
        return cls(
            id=_text(data, "id")[:60],
            kind=kind,
            date=_text(data, "fecha"),
            currency=_text(data, "moneda").upper() or "MXN",
            exchange_rate=_decimal(data, "tipo_cambio", "el tipo de cambio", "1"),
            method=method,
            payment_form=_text(data, "forma_pago") or "99",
            reference=_text(data, "referencia")[:60],
            observations=_text(data, "observaciones")[:1000],
            customer=customer,
            lines=parsed,
        )


class WopenConnector(Connector):
    kind = "wopen"

    @classmethod
    def clean_options(cls, connection) -> dict:
        options = dict(connection.options or {})
        errors = []
        url = normalize_url(str(options.get("base_url") or ""))
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors.append("Indique la URL de CONTPAQi Wopen (http o https).")
        else:
            # Imported here to keep the registry importable from sync.models.
            from sync.models import Connection

            others = Connection.objects.filter(kind=cls.kind, options__base_url=url).exclude(
                company_id=connection.company_id
            )
            if others.exists():
                errors.append(URL_TAKEN)
        entity_code = str(options.get("entity") or "").strip()
        if not entity_code:
            errors.append("Indique la sucursal (entidad de venta) que recibe los documentos de Wopen.")
        elif (
            connection.company_id
            and not SalesEntity.objects.filter(company_id=connection.company_id, code=entity_code).exists()
        ):
            errors.append(f"La entidad de venta «{entity_code}» no existe en la empresa.")
        orders = _flag(options.get("orders"), True)
        invoices = _flag(options.get("invoices"), True)
        prod_key = str(options.get("clave_prod_serv") or "").strip()
        unit_key = str(options.get("clave_unidad") or "").strip().upper()
        if bool(prod_key) != bool(unit_key):
            errors.append(
                "Indique la Clave Prod/Serv y la Clave Unidad predeterminadas, o ninguna de las dos."
            )
        for value, validator in ((prod_key, validate_clave_prod_serv), (unit_key, validate_clave_unidad)):
            if value:
                try:
                    validator(value)
                except ValidationError as error:
                    errors.extend(error.messages)
        cash_code = str(options.get("cash_account") or "").strip()
        if (
            cash_code
            and connection.company_id
            and not CashBankAccount.objects.filter(company_id=connection.company_id, code=cash_code).exists()
        ):
            errors.append(f"La caja o banco «{cash_code}» no existe en la empresa.")
        erp_url = str(options.get("erp_url") or DEFAULT_ERP_URL).strip().rstrip("/")
        try:
            URLValidator(schemes=["http", "https"])(erp_url)
        except ValidationError:
            errors.append("La URL pública del ERP (para los enlaces del XML y el PDF) no es válida.")
        page_size, timeout = paging_options(options, errors, page_size=100, page_max=500, timeout=15)
        if errors:
            raise ValidationError({"options": errors})
        return {
            "base_url": url,
            "user": str(options.get("user") or "").strip(),
            "entity": entity_code,
            "orders": orders,
            "invoices": invoices,
            "auto_stamp": _flag(options.get("auto_stamp"), False),
            "clave_prod_serv": prod_key,
            "clave_unidad": unit_key,
            "cash_account": cash_code,
            "erp_url": erp_url,
            "page_size": page_size,
            "timeout_seconds": timeout,
        }

    def __init__(self, connection):
        super().__init__(connection)
        self.options = options = connection.options
        self.base_url = options["base_url"]
        self.entity = SalesEntity.objects.select_related("company").get(
            company_id=connection.company_id, code=options["entity"]
        )
        self.kinds = tuple(
            k for k, on in (("pedido", options["orders"]), ("factura", options["invoices"])) if on
        )
        token = base64.b64encode(f"{options['user']}:{connection.credentials}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}

    # --- the HTTP client ----------------------------------------------------------------------
    def _call(self, path: str, *, query: dict | None = None, body: dict | None = None) -> dict:
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
        timeout = self.options["timeout_seconds"]
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                raw = reply.read(MAX_REPLY_BYTES + 1)
        except urllib.error.HTTPError as error:
            if error.code in (401, 403):
                raise SourceRefused(
                    f"CONTPAQi Wopen rechazó el usuario o la contraseña de la conexión (HTTP {error.code}). "
                    "Revise la URL, el usuario y la contraseña."
                ) from error
            if error.code >= 500:
                raise SourceUnavailable(f"CONTPAQi Wopen respondió con error HTTP {error.code}.") from error
            raise SourceRefused(f"CONTPAQi Wopen rechazó la solicitud (HTTP {error.code}).") from error
        except TimeoutError as error:
            raise SourceUnavailable(f"CONTPAQi Wopen no respondió en {timeout:g} segundos.") from error
        except (OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)
            raise SourceUnavailable(f"No se pudo conectar con CONTPAQi Wopen: {reason}.") from error
        if len(raw) > MAX_REPLY_BYTES:
            raise SourceUnavailable("La respuesta de CONTPAQi Wopen excede el tamaño permitido.")
        try:
            answer = json.loads(raw or b"{}")
            if not isinstance(answer, dict):
                raise TypeError
        except (ValueError, TypeError) as error:
            raise SourceUnavailable("La respuesta de CONTPAQi Wopen no es JSON.") from error
        return answer

    # --- reading ------------------------------------------------------------------------------
    def read_page(self, cursor: str) -> Page:
        if not self.kinds:
            return Page(records=[], cursor=cursor, has_more=False)
        data = self._call(
            "/api/v1/documentos",
            query={"desde": cursor, "limite": self.options["page_size"], "tipos": ",".join(self.kinds)},
        )
        records, next_cursor, has_more = data.get("documentos"), data.get("cursor"), data.get("hay_mas")
        if (
            not isinstance(records, list)
            or not isinstance(next_cursor, str)
            or not isinstance(has_more, bool)
        ):
            raise SourceUnavailable(
                "La respuesta de CONTPAQi Wopen no tiene el formato esperado (JSON con documentos, cursor y hay_mas)."
            )
        return Page(records=records, cursor=next_cursor, has_more=has_more)

    # --- writing ------------------------------------------------------------------------------
    def write_page(self, page: Page) -> Outcome:
        from sync.models import WopenDocument

        outcome = Outcome()
        for data in page.records:
            raw_id = _text(data, "id")[:60] if isinstance(data, dict) else ""
            try:
                record = WopenRecord.parse(data)
                if not record.id:
                    raise BadRecord("el documento no tiene id")
            except BadRecord as error:
                outcome.error(f"Documento Wopen {raw_id or '(sin id)'} omitido: {error}.", key=raw_id)
                continue
            if record.kind not in self.kinds:
                outcome.unchanged += 1
                continue
            key = {"company_id": self.connection.company_id}
            if WopenDocument.objects.filter(**key, wopen_kind=record.kind, wopen_id=record.id).exists():
                outcome.unchanged += 1  # already brought in: exactly once
                continue
            try:
                with transaction.atomic():
                    self._bring_in(record, outcome)
            except (DomainError, ValidationError) as error:
                outcome.error(f"{record.label} no se importó: {_error_text(error)}", key=record.id)
            except IntegrityError:  # its external key was written meanwhile: brought in once
                outcome.unchanged += 1
        return outcome

    def _bring_in(self, record: WopenRecord, outcome: Outcome) -> None:
        from sync.models import WopenDocument

        customer = self._customer(record)
        lines = self._lines(record)
        if lines is None:
            missing = sorted({line.code for line in record.lines} - self._existing_codes(record))
            outcome.error(
                f"{record.label} omitido: el producto «{missing[0]}» no existe y la conexión no tiene "
                "Clave Prod/Serv ni Clave Unidad predeterminadas para darlo de alta.",
                key=record.id,
            )
            return
        is_invoice = record.kind == "factura"
        currency = Currency.objects.filter(code=record.currency).first()
        if currency is None:
            raise DomainError("moneda_desconocida", f"La moneda «{record.currency}» no existe.")
        document, _ = create_document(
            kind=DocumentKind.INVOICE if is_invoice else DocumentKind.ORDER,
            entity=self.entity,
            customer=customer,
            date=timezone.localdate() if is_invoice else self._date(record),
            lines=lines,
            payment=Payment.CASH if record.method == "PUE" else Payment.CREDIT,
            currency=currency,
            exchange_rate=record.exchange_rate,
            reference=record.reference,
            observations=record.observations,
        )
        WopenDocument.objects.create(
            company_id=self.connection.company_id,
            wopen_kind=record.kind,
            wopen_id=record.id,
            connection=self.connection,
            document=document,
        )
        outcome.created += 1
        if not is_invoice:
            outcome.events.append(_info(f"{record.label} recibido como pedido {document}.", record, document))
            return
        if not self.options["auto_stamp"]:
            outcome.events.append(
                _info(
                    f"{record.label} recibida como borrador; espera revisión para agregarse.",
                    record,
                    document,
                )
            )
            return
        try:
            with transaction.atomic():
                post_invoice(document=document, collections=self._collections(record, document))
        except DomainError as error:
            outcome.created -= 1
            outcome.error(
                f"{record.label} no se timbró: {error.message} Queda como borrador para revisión.",
                key=record.id,
            )
            outcome.events[-1].record_model, outcome.events[-1].record_id = "sales.salesdocument", document.pk
            return
        document.refresh_from_db(fields=["number", "status"])
        if company_can_seal(self.entity.company):
            outcome.events.append(
                _info(
                    f"{record.label} agregada como factura {document}; se timbra en seguida.",
                    record,
                    document,
                )
            )
        else:
            outcome.events.append(
                EventDraft(
                    "warning",
                    f"{record.label} agregada como factura {document} sin timbrar: la empresa no tiene un "
                    "CSD vigente.",
                    record_key=record.id,
                    record_model="sales.salesdocument",
                    record_id=document.pk,
                )
            )

    def _date(self, record: WopenRecord):
        try:
            return timezone.datetime.fromisoformat(record.date).date()
        except ValueError:
            return timezone.localdate()

    def _customer(self, record: WopenRecord) -> Customer:
        data = record.customer
        rfc = normalize_rfc(_text(data, "rfc"))
        if not rfc:
            raise DomainError("cliente_sin_rfc", "el cliente no tiene RFC.")
        if is_generic_rfc(rfc):
            return ensure_counter_customer(entity=self.entity)
        found = (
            Customer.objects.filter(entity=self.entity, rfc=rfc, active=True)
            .select_related("company", "entity")
            .order_by("pk")
            .first()
        )
        if found is not None:
            return found
        customer = Customer(
            rfc=rfc,
            name=_text(data, "razon_social"),
            regimen_fiscal=_text(data, "regimen_fiscal"),
            postal_code=_text(data, "codigo_postal"),
            uso_cfdi=_text(data, "uso_cfdi"),
            email=_text(data, "correo"),
            forma_pago=_text(data, "forma_pago") or "99",
        )
        rejected = save_customers_batch(entity=self.entity, new=[customer], changed=[], fields=[])
        if rejected:
            raise DomainError("cliente_invalido", f"cliente {rfc}: {_error_text(rejected[0][1])}")
        return customer

    def _existing_codes(self, record: WopenRecord) -> set[str]:
        codes = [line.code for line in record.lines]
        found = Product.objects.filter(company_id=self.connection.company_id, active=True, code__in=codes)
        return set(found.values_list("code", flat=True))

    def _lines(self, record: WopenRecord) -> list[LineRequest] | None:
        """The document's lines as a cashier would type them; products missing here are created
        with the connection's default SAT keys, or None when it has none."""
        existing = self._existing_codes(record)
        missing = {line.code: line for line in record.lines if line.code not in existing}
        if missing:
            prod_key, unit_key = self.options["clave_prod_serv"], self.options["clave_unidad"]
            if not (prod_key and unit_key):
                return None
            for code, line in missing.items():
                save_catalog_row(
                    instance=Product(
                        company_id=self.connection.company_id,
                        code=code,
                        description=line.description or code,
                        unit="SERV" if unit_key == SERVICE_UNIT else "PZA",
                        sat_product_key=prod_key,
                        sat_unit_key=unit_key,
                        is_service=unit_key == SERVICE_UNIT,
                        list_price=max(line.price, Decimal("0")),
                        external_key=f"wopen:{code}"[:60],
                    )
                )
        return [
            LineRequest(
                product_code=line.code,
                quantity=line.quantity,
                unit_price=line.price,
                discount_rate=line.discount,
                iva_rate=line.iva,
                description=line.description,
            )
            for line in record.lines
        ]

    def _collections(self, record: WopenRecord, document: SalesDocument) -> list[Collection]:
        """A PUE invoice is collected in full into the connection's cash account (none: posting
        refuses it with its own message and the invoice waits as a draft)."""
        if record.method != "PUE" or not self.options["cash_account"]:
            return []
        account = CashBankAccount.objects.get(
            company_id=self.connection.company_id, code=self.options["cash_account"]
        )
        method = record.payment_form if record.payment_form in PaymentMethod.values else PaymentMethod.CASH
        return [Collection(account=account, amount=document.total, method=method)]

    # --- reporting stamps back ----------------------------------------------------------------
    def after_pages(self) -> Outcome:
        """Report to Wopen the company's Wopen invoices stamped and not yet reported (this run's,
        and any an earlier run left: a stamp that came after its run ended, a report that failed).
        Each report is one POST and one UPDATE, no lock held; Wopen answers a repeat of the same
        UUID as done, so a report sent twice (a worker dying between the two) is harmless."""
        from sync.models import WopenDocument

        outcome = Outcome()
        pending = list(
            WopenDocument.objects.filter(
                company_id=self.connection.company_id,
                wopen_kind=WopenDocument.Kind.INVOICE,
                reported_at__isnull=True,
            ).select_related("document")
        )
        if not pending:
            return outcome
        stamped = dict(
            CfdiDocument.objects.filter(
                source_model=SOURCE_MODEL,
                source_id__in=[link.document_id for link in pending],
                status=CfdiDocument.Status.STAMPED,
            ).values_list("source_id", "uuid")
        )
        erp = self.options["erp_url"]
        for link in pending:
            uuid = stamped.get(link.document_id)
            if not uuid:
                continue
            invoice = link.document
            body = {
                "serie": invoice.series,
                "folio": str(invoice.number),
                "uuid": str(uuid).upper(),
                "xml_url": f"{erp}/api/sales/invoices/{invoice.pk}/xml/",
                "pdf_url": f"{erp}/api/sales/invoices/{invoice.pk}/pdf/",
            }
            label = f"Factura Wopen {link.wopen_id}"
            try:
                self._call(f"/api/v1/facturas/{urllib.parse.quote(link.wopen_id, safe='')}/timbre", body=body)
            except (SourceRefused, SourceUnavailable) as error:
                outcome.events.append(
                    EventDraft(
                        "warning",
                        f"{label}: no se pudo informar el timbre a Wopen ({error}); se reintenta en la "
                        "siguiente sincronización.",
                        record_key=link.wopen_id,
                        record_model="sales.salesdocument",
                        record_id=invoice.pk,
                    )
                )
                continue
            WopenDocument.objects.filter(pk=link.pk, reported_at__isnull=True).update(
                reported_at=timezone.now()
            )
            outcome.updated += 1
            outcome.events.append(
                EventDraft(
                    "info",
                    f"{label} timbrada como {invoice} (UUID {body['uuid']}); informada a Wopen.",
                    record_key=link.wopen_id,
                    record_model="sales.salesdocument",
                    record_id=invoice.pk,
                )
            )
        return outcome


def _info(message: str, record: WopenRecord, document: SalesDocument) -> EventDraft:
    return EventDraft(
        "info", message, record_key=record.id, record_model="sales.salesdocument", record_id=document.pk
    )
