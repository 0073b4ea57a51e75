"""The customer file's FTP drop (issue 13), against a real FTP server on loopback (pyftpdlib)."""

import threading

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

from sales.models import Customer
from sync.engine import execute_run, start_scheduled_run
from sync.models import CustomerImport, Event, Run
from tests.factories_customer_file import csv_bytes, file_connection, moral_rfc, ratio_bomb, row, xlsx

pytestmark = pytest.mark.django_db

PASSWORD = "clave-ftp-secreta"


@pytest.fixture
def ftp_server(tmp_path):
    home = tmp_path / "ftp"
    (home / "clientes").mkdir(parents=True)
    authorizer = DummyAuthorizer()
    authorizer.add_user("erp", PASSWORD, str(home), perm="elradfmw")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "passive_ports": None})
    server = FTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.05}, daemon=True)
    thread.start()
    yield server.socket.getsockname()[1], home / "clientes"
    server.close_all()
    thread.join(5)


def ftp_connection(company, port, password=PASSWORD):
    return file_connection(
        company,
        ftp={"host": "127.0.0.1", "port": port, "folder": "/clientes", "user": "erp", "timeout_seconds": 5},
        password=password,
    )


def scheduled_run(connection) -> Run:
    run = start_scheduled_run(connection_id=connection.pk)
    return execute_run(run_id=run.pk)


def test_new_files_are_imported_then_moved_to_procesados_and_bad_ones_to_rechazados(company, ftp_server):
    port, folder = ftp_server
    (folder / "a-clientes.xlsx").write_bytes(xlsx([row(1), row(2)]))
    (folder / "b-roto.xlsx").write_bytes(b"%PDF-1.4 no es excel")
    (folder / "c-clientes.csv").write_bytes(
        "Clave;RFC;Razón social;Régimen fiscal;Código postal;Uso CFDI\n"
        f"C000003;{moral_rfc(3)};"
        "TRES SA DE CV;601;06000;G03\n".encode("cp1252")
    )
    connection = ftp_connection(company, port)

    run = scheduled_run(connection)

    assert (run.result, run.created, run.failed) == ("partial", 3, 1), run.message
    assert set(Customer.objects.filter(company=company).values_list("external_key", flat=True)) >= {
        "C000001", "C000002", "C000003",
    }  # fmt: skip
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == []
    assert sorted(p.name for p in (folder / "procesados").iterdir()) == ["a-clientes.xlsx", "c-clientes.csv"]
    assert [p.name for p in (folder / "rechazados").iterdir()] == ["b-roto.xlsx"]
    rejected = CustomerImport.objects.get(status="rejected")
    assert "no es una hoja de cálculo" in rejected.message
    assert Event.objects.filter(run=run, level="error", message__contains="b-roto.xlsx").exists()
    assert set(CustomerImport.objects.exclude(status="rejected").values_list("status", flat=True)) == {
        "applied"
    }


def test_the_same_file_is_never_processed_twice(company, ftp_server):
    port, folder = ftp_server
    content = xlsx([row(1)])
    (folder / "clientes.xlsx").write_bytes(content)
    connection = ftp_connection(company, port)
    first = scheduled_run(connection)
    assert first.created == 1
    Customer.objects.filter(external_key="C000001").update(email="cambiado@aqui.mx")
    (folder / "clientes.xlsx").write_bytes(content)  # dropped again

    second = scheduled_run(connection)

    assert (second.created, second.updated) == (0, 0)
    assert Customer.objects.get(external_key="C000001").email == "cambiado@aqui.mx"
    assert CustomerImport.objects.count() == 1
    assert Event.objects.filter(run=second, message__contains="ya se había importado").exists()
    assert not (folder / "clientes.xlsx").exists()


def test_an_empty_folder_ends_sin_cambios(company, ftp_server):
    port, _folder = ftp_server
    run = scheduled_run(ftp_connection(company, port))
    assert (run.result, run.message) == ("success", "Sin cambios")


def test_a_wrong_ftp_password_fails_the_run_at_once(company, ftp_server):
    port, folder = ftp_server
    (folder / "clientes.xlsx").write_bytes(xlsx([row(1)]))
    run = scheduled_run(ftp_connection(company, port, password="equivocada"))
    assert run.result == "failed"
    assert "rechazó" in run.message
    assert (folder / "clientes.xlsx").exists()
    assert not Customer.objects.filter(external_key="C000001").exists()


def test_the_ftp_password_is_stored_encrypted(company, ftp_server):
    from django.db import connection as db

    port, _folder = ftp_server
    connection = ftp_connection(company, port)
    with db.cursor() as cursor:
        cursor.execute("SELECT credentials FROM sync_connection WHERE id = %s", [connection.pk])
        stored = cursor.fetchone()[0]
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("vacio.csv", b"", "El archivo está vacío"),
        ("repetidos.xlsx", xlsx([row(1), row(2), row(1)]), "aparece dos veces en el archivo"),
        ("nulos.csv", csv_bytes([row(n) for n in range(200)]) + b"C9,\x00X\r\n", "caracteres nulos"),
        ("bomba.xlsx", ratio_bomb(), "bomba zip"),
    ],
    ids=["empty", "duplicated-key", "nul-bytes", "zip-bomb"],
)
def test_each_bad_file_goes_to_rechazados_in_spanish_and_changes_nothing(
    company, ftp_server, name, content, message
):
    port, folder = ftp_server
    (folder / name).write_bytes(content)
    connection = ftp_connection(company, port)
    before = list(Customer.objects.filter(company=company).order_by("pk").values())

    run = scheduled_run(connection)

    assert (run.created, run.updated, run.failed) == (0, 0, 1), run.message
    assert [p.name for p in (folder / "rechazados").iterdir()] == [name]
    assert message in CustomerImport.objects.get(status="rejected").message
    assert Event.objects.filter(run=run, level="error", message__contains=message).exists()
    assert list(Customer.objects.filter(company=company).order_by("pk").values()) == before
    assert not CustomerImport.objects.filter(rows__isnull=False).exists()  # no row of it was stored
