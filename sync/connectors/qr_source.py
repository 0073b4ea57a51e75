"""A small CONTPAQi QR stand-in that speaks the contract in ``docs/sync-contpaqi-qr.md``.

It serves the demo's built-in receivers (``make run``), and the tests and the bench start it on
loopback with their own receivers and faults. Each receiver carries a sequence number that grows
every time it changes; the cursor is the last sequence a page returned, so a reader asks only for
what changed since its bookmark.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PATH = "/api/v1/receptores"
MAX_LIMIT = 5000

DEMO_TOKEN = "demo-qr"
DEMO_RECEIVERS = [
    {"rfc_receptor": "CACX7605101P8", "razon_social": "XOCHILT CASAS CHAVEZ", "regimen_fiscal": "612",
     "correo": "xochilt@example.mx", "codigo_postal": "36257", "uso_cfdi": "G03", "forma_pago": "03"},
    {"rfc_receptor": "IIA040805DZ4", "razon_social": "INDISTRIA ILUMINADORA DE ALMACENES",
     "regimen_fiscal": "601", "correo": "compras@iluminadora.example.mx", "codigo_postal": "62661",
     "uso_cfdi": "G01", "forma_pago": "99"},
    {"rfc_receptor": "FUNK671228PH6", "razon_social": "KARLA FUENTE NOLASCO", "regimen_fiscal": "605",
     "correo": "", "codigo_postal": "01160", "uso_cfdi": "S01", "forma_pago": "01"},
    {"rfc_receptor": "MAL840526KN3", "razon_social": "MAQUINADOS DEL ALTIPLANO", "regimen_fiscal": "601",
     "correo": "pagos@altiplano.example.mx", "codigo_postal": "00001", "uso_cfdi": "G03", "forma_pago": "02"},
]  # fmt: skip


class QrSource:
    """The receivers and their sequence numbers; ``page`` answers one request of the contract."""

    def __init__(self, receivers=(), token: str = DEMO_TOKEN):
        self.token = token
        self._by_rfc: dict[str, tuple[int, dict]] = {}
        self._seq = 0
        # (sequence, RFC) of each receiver's last change, in sequence order: a put appends (its
        # sequence is the highest) and drops the receiver's previous entry, so a page never sorts.
        self._order: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        for receiver in receivers:
            self.put(receiver)

    def put(self, receiver: dict) -> None:
        """Add or change a receiver (a new invoice to it in QR)."""
        rfc = receiver["rfc_receptor"]
        with self._lock:
            previous = self._by_rfc.get(rfc)
            if previous is not None:
                del self._order[bisect.bisect_left(self._order, (previous[0], rfc))]
            self._seq += 1
            self._by_rfc[rfc] = (self._seq, dict(receiver))
            self._order.append((self._seq, rfc))

    def page(self, since: str, limit: int) -> dict:
        with self._lock:
            after = int(since) if since else 0
            start = bisect.bisect_right(self._order, (after, "\uffff"))
            chunk = self._order[start : start + limit]
            records = [self._by_rfc[rfc][1] for _, rfc in chunk]
            cursor = str(chunk[-1][0]) if chunk else (since or "0")
            return {"receptores": records, "cursor": cursor, "hay_mas": start + limit < len(self._order)}


class _Handler(BaseHTTPRequestHandler):
    server: QrSourceServer

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        server = self.server
        server.requests += 1
        url = urlparse(self.path)
        if url.path != PATH:
            return self._reply(404, b'{"error": "no existe"}')
        if self.headers.get("Authorization") != f"Bearer {server.source.token}":
            return self._reply(401, b'{"error": "token invalido"}')
        fault = server.faults.pop(0) if server.faults else None
        if fault == "500":
            return self._reply(500, b'{"error": "interno"}')
        if fault == "garbage":
            return self._reply(200, b"<html>Servicio en mantenimiento</html>")
        if fault == "timeout":
            time.sleep(server.timeout_sleep)
        if server.delay:
            time.sleep(server.delay)
        query = parse_qs(url.query)
        try:
            limit = max(1, min(MAX_LIMIT, int(query.get("limite", ["100"])[0])))
            since = query.get("desde", [""])[0]
            int(since or 0)
        except ValueError:
            return self._reply(400, b'{"error": "parametros"}')
        body = json.dumps(server.source.page(since, limit), ensure_ascii=False).encode()
        self._reply(200, body)

    def _reply(self, status: int, body: bytes):
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (a timeout it was told to expect)
            self.wfile.write(body)


class QrSourceServer(ThreadingHTTPServer):
    """``with QrSourceServer(source) as server:`` serves on 127.0.0.1 at ``server.url``.

    ``faults`` is a queue applied to the next requests: "500", "garbage" (HTML instead of JSON)
    or "timeout" (sleeps ``timeout_sleep`` seconds before answering)."""

    daemon_threads = True

    def __init__(self, source: QrSource):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.source = source
        self.faults: list[str] = []
        self.delay = 0.0
        self.timeout_sleep = 3.0
        self.requests = 0
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
