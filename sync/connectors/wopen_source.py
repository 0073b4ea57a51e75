"""A small CONTPAQi Wopen stand-in that speaks the contract in ``docs/sync-contpaqi-wopen.md``.

It serves the demo's built-in order and invoice request (``make run``, and the demo's first run),
and the tests start it on loopback with their own documents and faults. Every document carries a
sequence number; the cursor is the last sequence a page returned. The stamp reports the ERP sends
back (``POST /api/v1/facturas/{id}/timbre``) are kept in ``reports``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

DOCUMENTS_PATH = "/api/v1/documentos"
REPORT_PREFIX = "/api/v1/facturas/"
REPORT_SUFFIX = "/timbre"
MAX_LIMIT = 500
KINDS = ("pedido", "factura")

DEMO_USER = "demo@wopen"
DEMO_PASSWORD = "demo-wopen"
DEMO_DOCUMENTS = [
    {
        "id": "P-1001", "tipo": "pedido", "fecha": "2026-12-01", "moneda": "MXN", "tipo_cambio": "1",
        "metodo_pago": "PPD", "forma_pago": "99", "referencia": "OC-7781", "observaciones": "Entrega en almacén",
        "cliente": {"rfc": "URE180429TM6", "razon_social": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "regimen_fiscal": "601",
                    "codigo_postal": "86991", "uso_cfdi": "G01", "correo": "", "forma_pago": "99"},
        "partidas": [
            {"codigo": "A", "descripcion": "Producto A (tornillo)", "cantidad": "50", "precio": "11.50",
             "descuento": "0", "iva": "16"},
        ],
    },
    {
        "id": "F-2001", "tipo": "factura", "fecha": "2026-12-01", "moneda": "MXN", "tipo_cambio": "1",
        "metodo_pago": "PPD", "forma_pago": "99", "referencia": "WOPEN-F-2001", "observaciones": "",
        "cliente": {"rfc": "IIA040805DZ4", "razon_social": "INDISTRIA ILUMINADORA DE ALMACENES",
                    "regimen_fiscal": "601", "codigo_postal": "62661", "uso_cfdi": "G03",
                    "correo": "compras@iluminadora.example.mx", "forma_pago": "99"},
        "partidas": [
            {"codigo": "ASES", "descripcion": "Asesoría administrativa", "cantidad": "2", "precio": "1000.00",
             "descuento": "0", "iva": "16"},
            {"codigo": "WOP-INST", "descripcion": "Instalación en sitio", "cantidad": "1", "precio": "850.00",
             "descuento": "10", "iva": "16"},
        ],
    },
]  # fmt: skip


class WopenSource:
    """Documents with their sequence numbers; ``page`` answers one read of the contract and
    ``report`` records one stamp report."""

    def __init__(self, documents=(), *, user: str = DEMO_USER, password: str = DEMO_PASSWORD):
        self.user = user
        self.password = password
        self._documents: list[tuple[int, dict]] = []
        self.reports: dict[str, dict] = {}
        self.report_calls = 0
        self._lock = threading.Lock()
        for document in documents:
            self.put(document)

    def put(self, document: dict) -> None:
        """A new (or changed) order or invoice request in Wopen."""
        with self._lock:
            seq = (self._documents[-1][0] if self._documents else 0) + 1
            self._documents.append((seq, dict(document)))

    def authorized(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return header == f"Basic {expected}"

    def page(self, since: str, limit: int, kinds: tuple[str, ...] = KINDS) -> dict:
        with self._lock:
            after = int(since) if since else 0
            pending = [(seq, d) for seq, d in self._documents if seq > after and d.get("tipo") in kinds]
            chunk = pending[:limit]
            cursor = str(chunk[-1][0]) if chunk else (since or "0")
            return {
                "documentos": [d for _, d in chunk],
                "cursor": cursor,
                "hay_mas": len(pending) > limit,
            }

    def report(self, document_id: str, body: dict) -> tuple[int, dict]:
        """A stamp report: accepted once per invoice request; the same UUID again is a repeat
        (200), another UUID for an invoice already reported is refused (409)."""
        with self._lock:
            self.report_calls += 1
            known = {d.get("id") for _, d in self._documents if d.get("tipo") == "factura"}
            if document_id not in known:
                return 404, {"error": "factura no existe"}
            if not body.get("uuid"):
                return 400, {"error": "falta uuid"}
            previous = self.reports.get(document_id)
            if previous and previous["uuid"] != body["uuid"]:
                return 409, {"error": "la factura ya tiene otro timbre"}
            self.reports[document_id] = dict(body)
            return 200, {"ok": True}


def parse_documents_query(query: str) -> tuple[str, int, tuple[str, ...]]:
    """``desde``, ``limite`` and ``tipos`` of a read; ValueError when malformed."""
    params = parse_qs(query)
    limit = max(1, min(MAX_LIMIT, int(params.get("limite", ["100"])[0])))
    since = params.get("desde", [""])[0]
    int(since or 0)
    kinds = tuple(k for k in params.get("tipos", [",".join(KINDS)])[0].split(",") if k)
    if not kinds or any(k not in KINDS for k in kinds):
        raise ValueError("tipos")
    return since, limit, kinds


def report_id(path: str) -> str | None:
    if path.startswith(REPORT_PREFIX) and path.endswith(REPORT_SUFFIX):
        return unquote(path[len(REPORT_PREFIX) : -len(REPORT_SUFFIX)]) or None
    return None


class _Handler(BaseHTTPRequestHandler):
    server: WopenSourceServer

    def log_message(self, *args):  # quiet
        pass

    def _gate(self) -> bool:
        if not self.server.source.authorized(self.headers.get("Authorization")):
            self._reply(401, {"error": "usuario o contraseña incorrectos"})
            return False
        fault = self.server.faults.pop(0) if self.server.faults else None
        if fault == "500":
            self._reply(500, {"error": "interno"})
            return False
        return True

    def do_GET(self):
        url = urlparse(self.path)
        if url.path != DOCUMENTS_PATH:
            return self._reply(404, {"error": "no existe"})
        if not self._gate():
            return None
        self.server.reads += 1
        if self.server.delay:
            time.sleep(self.server.delay)
        try:
            since, limit, kinds = parse_documents_query(url.query)
        except ValueError:
            return self._reply(400, {"error": "parametros"})
        return self._reply(200, self.server.source.page(since, limit, kinds))

    def do_POST(self):
        document_id = report_id(urlparse(self.path).path)
        if document_id is None:
            return self._reply(404, {"error": "no existe"})
        if not self._gate():
            return None
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self._reply(400, {"error": "json"})
        status, answer = self.server.source.report(document_id, body)
        return self._reply(status, answer)

    def _reply(self, status: int, data: dict):
        body = json.dumps(data, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)


class WopenSourceServer(ThreadingHTTPServer):
    """``with WopenSourceServer(source) as server:`` serves on 127.0.0.1 at ``server.url``.
    ``faults``: a queue of "500" applied to the next requests; ``delay``: seconds before a read
    is answered."""

    daemon_threads = True

    def __init__(self, source: WopenSource):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.source = source
        self.faults: list[str] = []
        self.delay = 0.0  # seconds before each read is answered (a slow Wopen)
        self.reads = 0
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
        self._thread.join(5)
