"""Test doubles for CFDI delivery that speak real protocols over loopback:

- ``FakeFinkok``: an HTTP server on 127.0.0.1 answering Finkok's SOAP stamp protocol (stamp,
  307 "previamente timbrado" on a repeat, ``stamped`` to recover a stamp, refusals with SAT
  codes), stamping for real with the sandbox PAC. Faults on demand: drop the reply (close the
  connection after stamping), hold the reply until released, answer too late (timeout).
- ``SmtpSink``: a real SMTP server (aiosmtpd) that keeps what it receives.
- ``CeleryWorker``: a real ``celery worker`` process bound to the test database and Redis.
"""

from __future__ import annotations

import base64
import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

from aiosmtpd.controller import Controller
from django.db import connection, connections
from lxml import etree

from cfdi.pac import PACError
from cfdi.pac.base import PREVIOUSLY_STAMPED
from cfdi.pac.sandbox import SandboxPAC

BASE_DIR = Path(__file__).resolve().parent.parent
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
STAMP_NS = "http://facturacion.finkok.com/stamp"
APPS = "apps.services.soap.core.views"
OK_STATUS = "Comprobante timbrado satisfactoriamente"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _incidence(code: str, message: str) -> str:
    return (
        f"<s0:Incidencia><s0:IdIncidencia>1</s0:IdIncidencia><s0:CodigoError>{escape(code)}</s0:CodigoError>"
        f"<s0:MensajeIncidencia>{escape(message)}</s0:MensajeIncidencia></s0:Incidencia>"
    )


def _stamp_response(
    operation: str, *, xml: bytes = b"", uuid: str = "", status: str = "", incidences: str = ""
):
    body = (f"<s0:xml>{escape(xml.decode('utf-8'))}</s0:xml><s0:UUID>{uuid}</s0:UUID>" if xml else "") + (
        f"<s0:CodEstatus>{escape(status)}</s0:CodEstatus>" if status else ""
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><senv:Envelope xmlns:senv="{SOAP}" xmlns:tns="{STAMP_NS}" '
        f'xmlns:s0="{APPS}"><senv:Body><tns:{operation}Response><tns:{operation}Result>{body}'
        f"<s0:Incidencias>{incidences}</s0:Incidencias></tns:{operation}Result></tns:{operation}Response>"
        f"</senv:Body></senv:Envelope>"
    ).encode()


class FakeFinkok:
    """Finkok's stamp web service on 127.0.0.1 (``url`` is the PacAccount's service_url)."""

    def __init__(self):
        self.requests: list[tuple[str, str]] = []  # (operation, username)
        self.stamps: list[str] = []  # UUIDs given as new stamps (200)
        self.faults: list[str] = []  # per stamp request, consumed in order: drop, hold, slow, refuse
        self.hold_started = threading.Event()
        self.release = threading.Event()
        self.slow_seconds = 3.0
        self.refusal = ("302", "Sello mal formado o inválido")
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    fake.handle(self, body)
                finally:
                    connections.close_all()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request, body: bytes):
        if not request.path.endswith("/servicios/soap/stamp.wsdl"):
            request.send_error(404)
            return
        root = etree.fromstring(body)
        operation_node = root.find(f"{{{SOAP}}}Body")[0]
        operation = etree.QName(operation_node).localname
        username = operation_node.findtext(f"{{{STAMP_NS}}}username")
        xml = base64.b64decode(operation_node.findtext(f"{{{STAMP_NS}}}xml"))
        with self._lock:
            self.requests.append((operation, username))
            fault = self.faults.pop(0) if self.faults and operation == "stamp" else ""
        if fault == "slow":
            time.sleep(self.slow_seconds)
            return self._reply(request, _stamp_response(operation, incidences=_incidence("708", "Timeout")))
        if fault == "refuse":
            return self._reply(request, _stamp_response(operation, incidences=_incidence(*self.refusal)))
        try:
            result = SandboxPAC().stamp(xml)
        except PACError as error:
            return self._reply(
                request, _stamp_response(operation, incidences=_incidence(error.code, error.message))
            )
        if result.code != PREVIOUSLY_STAMPED:
            with self._lock:
                self.stamps.append(result.uuid)
        if fault == "drop":  # stamped, but the reply never reaches the client
            request.close_connection = True
            request.connection.shutdown(socket.SHUT_RDWR)
            return None
        if fault == "hold":  # stamped; the reply waits (the worker is killed meanwhile)
            self.hold_started.set()
            self.release.wait(60)
        if operation == "stamp" and result.code == PREVIOUSLY_STAMPED:
            # Finkok: "307 El CFDI contiene un timbre previo"; the client asks ``stamped`` for it.
            response = _stamp_response(
                operation, uuid=result.uuid, incidences=_incidence("307", "El CFDI contiene un timbre previo")
            )
        else:
            response = _stamp_response(operation, xml=result.xml, uuid=result.uuid, status=OK_STATUS)
        return self._reply(request, response)

    @staticmethod
    def _reply(request, content: bytes):
        try:
            request.send_response(200)
            request.send_header("Content-Type", "text/xml; charset=utf-8")
            request.send_header("Content-Length", str(len(content)))
            request.end_headers()
            request.wfile.write(content)
        except OSError:
            pass  # the client went away (killed worker)


class SmtpSink:
    """A real SMTP server on loopback; ``messages`` holds the parsed messages it accepted."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.port = free_port()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = email.message_from_bytes(
                    envelope.original_content or envelope.content, policy=policy.default
                )
                message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
                sink.messages.append(message)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 30) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.messages


def database_url() -> str:
    """The test database as a DATABASE_URL another process can open."""
    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{settings.get('HOST') or '127.0.0.1'}:"
        f"{settings.get('PORT') or 5432}/{settings['NAME']}"
    )


class CeleryWorker:
    """A real ``celery -A erp worker`` process (its own session, killed as a group)."""

    def __init__(
        self,
        name: str,
        *,
        broker_url: str,
        media_root: str,
        log_dir: Path,
        env: dict | None = None,
        queues: str = "stamping,documents",
        command: str = "worker",
    ):
        self.name = name
        self.queues = queues
        self.command = command
        self.log_path = log_dir / f"{name}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DB_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": broker_url,
            "CELERY_VISIBILITY_TIMEOUT": "4",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
            "CFDI_RETRY_BASE_SECONDS": "0.5",
            "CFDI_RETRY_MAX_SECONDS": "2",
            "MEDIA_ROOT": media_root,
            "LOG_LEVEL": "INFO",
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "erp", "worker", "-Q", self.queues,
                "-c", "1", "-P", "prefork", "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-n", f"{self.name}@%h", "-l", "INFO",
            ] if self.command == "worker" else [  # celery beat (the sync tests): schedules from the database
                sys.executable, "-m", "celery", "-A", "erp", "beat", "-l", "INFO",
                "-S", "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile=",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool: no warm shutdown, nothing acknowledged."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_until(predicate, timeout: float = 60, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
