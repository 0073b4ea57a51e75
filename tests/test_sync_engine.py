"""The sync engine with the CONTPAQi QR connector, against a QR stand-in on loopback."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from sales.models import Customer, Salesperson
from sync.engine import DEAD_MESSAGE, SKIPPED_MESSAGE, execute_run, purge_old_events
from sync.models import PERIOD_MESSAGE, Connection, Event, Run
from sync.services import delete_connection, save_connection, set_connection_enabled
from tests.factories import sales_entity
from tests.factories_sync import customers_snapshot, qr_connection, qr_server, receiver

pytestmark = pytest.mark.django_db

MORAL = "IIA040805DZ4"
FISICA = "CACX7605101P8"


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0.01
    settings.SYNC_SOURCE_ATTEMPTS = 3


def run_now(connection, trigger=Run.Trigger.MANUAL) -> Run:
    run = Run.objects.create(company=connection.company, connection=connection, trigger=trigger)
    return execute_run(run_id=run.pk)


def events(run) -> list[tuple[str, str]]:
    return list(Event.objects.filter(run=run).order_by("pk").values_list("level", "message"))


# --- Connection: period, options, schedule ---------------------------------------------------


@pytest.mark.parametrize("period", [4, 1441, 0])
def test_period_outside_5_to_1440_is_refused_with_the_seed_message_and_nothing_saved(company, period):
    with pytest.raises(ValidationError) as error:
        qr_connection(company, "http://127.0.0.1:9", period_minutes=period)
    assert str(PERIOD_MESSAGE) in error.value.message_dict["period_minutes"]
    assert not Connection.objects.exists()
    assert not PeriodicTask.objects.filter(name__startswith="sync-connection-").exists()


@pytest.mark.parametrize("period", [5, 1440])
def test_period_bounds_are_accepted(company, period):
    assert qr_connection(company, "http://127.0.0.1:9", period_minutes=period).pk


def test_options_are_validated_per_kind(company):
    with pytest.raises(ValidationError) as error:
        save_connection(
            connection=Connection(
                company=company,
                kind="qr_customers",
                name="x",
                options={"base_url": "ftp://x", "entity": "NO"},
            )
        )
    messages = error.value.message_dict["options"]
    assert "Indique la URL de CONTPAQi QR (http o https)." in messages
    assert "La entidad de venta «NO» no existe en la empresa." in messages
    assert not Connection.objects.exists()


def test_each_enabled_connection_has_exactly_one_periodic_task_kept_in_step(company):
    connection = qr_connection(company, "http://127.0.0.1:9", period_minutes=15)
    task = PeriodicTask.objects.get(name=connection.task_name)
    assert (task.interval.every, task.interval.period, task.queue) == (15, "minutes", "sync")
    assert task.task == "sync.tasks.run_scheduled_connection_task" and task.args == f"[{connection.pk}]"

    connection.period_minutes = 30
    save_connection(connection=connection)
    assert PeriodicTask.objects.filter(name=connection.task_name).count() == 1
    assert PeriodicTask.objects.get(name=connection.task_name).interval.every == 30

    set_connection_enabled(connection=connection, enabled=False)
    assert not PeriodicTask.objects.filter(name=connection.task_name).exists()
    set_connection_enabled(connection=connection, enabled=True)
    assert PeriodicTask.objects.filter(name=connection.task_name).count() == 1

    delete_connection(connection=connection)
    assert not PeriodicTask.objects.filter(name__startswith="sync-connection-").exists()


def test_credentials_are_stored_encrypted(company):
    connection = qr_connection(company, "http://127.0.0.1:9")
    with db_connection.cursor() as cursor:
        cursor.execute("select credentials from sync_connection where id = %s", [connection.pk])
        stored = cursor.fetchone()[0]
    assert "token-secreto-qr" not in stored
    assert Connection.objects.get(pk=connection.pk).credentials == "token-secreto-qr"


# --- The QR connector's rules ------------------------------------------------------------------


def test_unknown_rfc_creates_the_customer_with_the_seven_fields_and_person_type_from_the_rfc(company):
    with qr_server([receiver(MORAL), receiver(FISICA, correo="")]) as server:
        connection = qr_connection(company, server.url)
        run = run_now(connection)
    assert (run.result, run.created, run.updated, run.failed) == ("success", 2, 0, 0)
    moral = Customer.objects.get(company=company, rfc=MORAL)
    assert (
        moral.name,
        moral.regimen_fiscal,
        moral.email,
        moral.postal_code,
        moral.uso_cfdi,
        moral.forma_pago,
    ) == (f"CLIENTE {MORAL}", "601", "iia040805dz4@example.mx", "06000", "G03", "03")
    assert moral.person_type == "moral"
    assert Customer.objects.get(company=company, rfc=FISICA).person_type == "fisica"
    created = Event.objects.get(run=run, record_key=MORAL)
    assert created.record_url == f"/admin/sales/customer/{moral.pk}/change/"
    assert connection.__class__.objects.get(pk=connection.pk).cursor == "2"


def test_known_rfc_updates_only_the_five_fields_never_the_name(company):
    with qr_server([receiver(MORAL)]) as server:
        connection = qr_connection(company, server.url)
        run_now(connection)
        server.source.put(
            receiver(MORAL, razon_social="OTRO NOMBRE", regimen_fiscal="603", correo="nuevo@example.mx",
                     codigo_postal="01160", uso_cfdi="G01", forma_pago="04")
        )  # fmt: skip
        run = run_now(connection)
    assert (run.result, run.created, run.updated) == ("success", 0, 1)
    customer = Customer.objects.get(company=company, rfc=MORAL)
    assert customer.name == f"CLIENTE {MORAL}"
    assert (
        customer.regimen_fiscal,
        customer.email,
        customer.postal_code,
        customer.uso_cfdi,
        customer.forma_pago,
    ) == ("603", "nuevo@example.mx", "01160", "G01", "04")


def test_company_on_anexo_20_version_33_gets_uso_cfdi_blank(company):
    company.cfdi_version = "3.3"
    company.save()
    with qr_server([receiver(MORAL)]) as server:
        run = run_now(qr_connection(company, server.url))
    assert run.created == 1
    assert Customer.objects.get(company=company, rfc=MORAL).uso_cfdi == ""


def test_blank_uso_cfdi_is_still_refused_on_version_40(company):
    customer = Customer(company=company, entity=None, rfc=MORAL, uso_cfdi="")
    with pytest.raises(ValidationError) as error:
        customer._clean_fiscal_data()
    assert error.value.message_dict["uso_cfdi"] == ["Este campo no puede estar en blanco."]


def test_invalid_rfc_regimen_or_postal_code_is_an_event_and_the_run_goes_on(company):
    bad = [
        receiver("NOESUNRFC"),
        receiver(FISICA, regimen_fiscal="601"),  # a persona moral's régimen for a física
        receiver("MAL840526KN3", codigo_postal="00001"),
    ]
    with qr_server([*bad, receiver(MORAL)]) as server:
        run = run_now(qr_connection(company, server.url))
    assert (run.result, run.created, run.failed) == ("partial", 1, 3)
    errors = dict(Event.objects.filter(run=run, level="error").values_list("record_key", "message"))
    assert "no tiene una estructura válida" in errors["NOESUNRFC"]
    assert "El régimen fiscal 601 no aplica a una persona física" in errors[FISICA]
    assert "El código postal «00001» no existe" in errors["MAL840526KN3"]
    assert list(Customer.objects.filter(company=company).exclude(number=0).values_list("rfc", flat=True)) == [
        MORAL
    ]


def test_rerun_with_no_change_changes_nothing_and_says_sin_cambios(company):
    with qr_server([receiver(MORAL), receiver(FISICA)]) as server:
        connection = qr_connection(company, server.url)
        run_now(connection)
        before = customers_snapshot(company)
        run = run_now(connection)
        # the same receivers sent again (cursor rewound): unchanged, not updated
        Connection.objects.filter(pk=connection.pk).update(cursor="")
        again = run_now(connection)
    assert (run.result, run.message) == ("success", "Sin cambios")
    assert ("info", "Sin cambios") in events(run)
    assert (again.result, again.message, again.unchanged) == ("success", "Sin cambios", 2)
    assert customers_snapshot(company) == before


def _row_versions(company) -> dict[str, int]:
    """Each customer's row version (Postgres ``xmin``): it moves only when the row is written."""
    with db_connection.cursor() as cursor:
        cursor.execute("select rfc, xmin::text from sales_customer where company_id = %s", [company.pk])
        return {rfc: int(xmin) for rfc, xmin in cursor.fetchall()}


def test_a_rerun_where_one_of_three_changed_writes_that_one_only(postgres_only, company):
    third = "MAL840526KN3"
    with qr_server([receiver(MORAL), receiver(FISICA), receiver(third)]) as server:
        connection = qr_connection(company, server.url)
        run_now(connection)
        before = customers_snapshot(company)
        versions = _row_versions(company)
        # QR read again from the start: one receiver's correo and C.P. changed, the others as they were
        Connection.objects.filter(pk=connection.pk).update(cursor="")
        server.source.put(receiver(FISICA, correo="nuevo@example.mx", codigo_postal="01160"))
        run = run_now(connection)
    assert (run.result, run.created, run.updated, run.unchanged, run.failed) == ("success", 0, 1, 2, 0)
    assert events(run) == [
        ("info", f"Cliente {FISICA} actualizado desde CONTPAQi QR (correo electrónico, C.P.)."),
        ("info", "Creados 0, actualizados 1, desactivados 0, sin cambios 2, con error 0."),
    ]
    updated = Event.objects.get(run=run, record_key=FISICA)
    assert updated.record_id == Customer.objects.get(company=company, rfc=FISICA).pk
    after = _row_versions(company)
    assert [rfc for rfc in versions if after[rfc] != versions[rfc]] == [FISICA]  # the others not written
    changed = {row[0]: row for row in customers_snapshot(company)}[FISICA]
    assert changed[3:5] == ("nuevo@example.mx", "01160")
    assert [row for row in customers_snapshot(company) if row[0] != FISICA] == [
        row for row in before if row[0] != FISICA
    ]


def test_a_change_is_validated_with_the_customer_rules_and_refused_as_an_event(company):
    with qr_server([receiver(FISICA), receiver(MORAL)]) as server:
        connection = qr_connection(company, server.url)
        run_now(connection)
        before = customers_snapshot(company)
        # a persona moral's régimen for a física, and a malformed correo: neither is written
        server.source.put(receiver(FISICA, regimen_fiscal="601"))
        server.source.put(receiver(MORAL, correo="no es correo"))
        run = run_now(connection)
    assert (run.result, run.updated, run.failed) == ("partial", 0, 2)
    errors = dict(Event.objects.filter(run=run, level="error").values_list("record_key", "message"))
    assert "El régimen fiscal 601 no aplica a una persona física" in errors[FISICA]
    assert errors[MORAL].startswith(f"Cliente {MORAL} no sincronizado:")
    assert customers_snapshot(company) == before


def test_a_changed_invalid_value_is_an_event_while_the_unchanged_are_counted_unchanged(company):
    third = "MAL840526KN3"
    with qr_server([receiver(FISICA), receiver(MORAL), receiver(third)]) as server:
        connection = qr_connection(company, server.url)
        run_now(connection)
        before = customers_snapshot(company)
        # QR read again from the start: the física's régimen is now a persona moral's (a rule that
        # weighs the new régimen against the RFC, which did not change), the moral's C.P. does not
        # exist; the third is as stored
        Connection.objects.filter(pk=connection.pk).update(cursor="")
        server.source.put(receiver(FISICA, regimen_fiscal="601"))
        server.source.put(receiver(MORAL, codigo_postal="00001"))
        run = run_now(connection)
    assert (run.result, run.created, run.updated, run.unchanged, run.failed) == ("partial", 0, 0, 1, 2)
    errors = dict(Event.objects.filter(run=run, level="error").values_list("record_key", "message"))
    assert set(errors) == {FISICA, MORAL}
    assert "El régimen fiscal 601 no aplica a una persona física" in errors[FISICA]
    assert "El código postal «00001» no existe" in errors[MORAL]
    assert customers_snapshot(company) == before


def test_a_stored_customers_update_runs_the_rules_that_read_what_changed(company):
    """``clean(changed=...)``: a rule reading a changed field runs, weighed against the stored
    values; a rule over stored values only (the RFC's check digit, the RFC being the match key)
    is not re-run on each update."""
    # the check digit is wrong (a customer stored before the rule, or by hand)
    customer = Customer(
        company=company, entity=sales_entity(company), number=1, rfc="IIA040805DZ5", name="STORED",
        regimen_fiscal="601", postal_code="06000", uso_cfdi="G03",
    )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        customer.clean()
    assert "dígito verificador" in str(error.value.message_dict["rfc"])
    customer.email = "nuevo@example.mx"
    customer.clean(changed=["email"])  # the RFC did not change: its rules are not re-run
    customer.regimen_fiscal = "612"  # a persona física's régimen for a moral RFC
    with pytest.raises(ValidationError) as error:
        customer.clean(changed=["email", "regimen_fiscal"])
    assert "El régimen fiscal 612 no aplica a una persona moral" in str(
        error.value.message_dict["regimen_fiscal"]
    )


def test_a_page_of_changes_costs_the_same_queries_whatever_its_size(company):
    """No query per changed customer: its rules read the relations the connector holds in
    memory, and none reads a stored relation it did not change (a salesperson here)."""
    rfcs = [MORAL, FISICA, "MAL840526KN3", "FUNK671228PH6"]
    with qr_server([receiver(rfc) for rfc in rfcs]) as server:
        connection = qr_connection(company, server.url)
        run_now(connection)
        salesperson = Salesperson.objects.create(company=company, number=1, name="VENDEDOR")
        Customer.objects.filter(company=company, rfc__in=rfcs).update(salesperson=salesperson)

        def queries_to_change(some: list[str]) -> int:
            for rfc in some:
                server.source.put(receiver(rfc, correo=f"cambio{len(some)}@example.mx"))
            with CaptureQueriesContext(db_connection) as queries:
                run = run_now(connection)
            assert (run.updated, run.failed) == (len(some), 0)
            return len(queries)

        assert queries_to_change(rfcs[:1]) == queries_to_change(rfcs)


def test_a_known_rfc_updates_the_companys_oldest_customer_with_it(company):
    with qr_server([receiver(MORAL)]) as server:
        connection = qr_connection(company, server.url)
        run_now(connection)
        oldest = Customer.objects.get(company=company, rfc=MORAL)
        other_entity = sales_entity(company, code="GDL", name="Guadalajara", series="B")
        younger = Customer.objects.create(
            company=company, entity=other_entity, number=1, rfc=MORAL, name="OTRA ALTA", regimen_fiscal="601",
            postal_code="06000", uso_cfdi="G03", email="otra@example.mx",
        )  # fmt: skip
        server.source.put(receiver(MORAL, correo="nuevo@example.mx"))
        run = run_now(connection)
    assert (run.updated, run.created) == (1, 0)
    oldest.refresh_from_db()
    younger.refresh_from_db()
    assert (oldest.email, younger.email) == ("nuevo@example.mx", "otra@example.mx")


def test_pages_advance_the_cursor_one_written_page_at_a_time(company):
    with qr_server([receiver(r) for r in (MORAL, FISICA, "MAL840526KN3")]) as server:
        connection = qr_connection(company, server.url, page_size=1)
        run = run_now(connection)
        assert server.requests == 3
    assert run.created == 3
    assert Connection.objects.get(pk=connection.pk).cursor == "3"


# --- Faults: 500, garbage, timeout; nothing lost or half written ---------------------------


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("500", "CONTPAQi QR respondió con error HTTP 500."),
        ("garbage", "La respuesta de CONTPAQi QR no tiene el formato esperado"),
        ("timeout", "CONTPAQi QR no respondió en 1 segundos."),
    ],
)
def test_a_failing_source_is_retried_then_ends_the_run_failed_keeping_the_written_pages(
    company, settings, fault, reason
):
    with qr_server([receiver(MORAL), receiver(FISICA)]) as server:
        server.timeout_sleep = 1.5
        connection = qr_connection(company, server.url, page_size=1)
        server.faults = [None, fault, fault, fault]  # first page fine, then the fault three times
        run = run_now(connection)
        assert server.requests == 4
        snapshot = customers_snapshot(company)
        after_failure = Connection.objects.get(pk=connection.pk).cursor
        server.faults = []
        server.timeout_sleep = 0
        recovered = run_now(connection)
    assert run.result == "failed" and reason in run.message
    levels = [level for level, _ in events(run)]
    assert levels.count("warning") == 2 and levels[-1] == "error"
    assert "intento 2 de 3" in events(run)[-3][1]
    assert [row[0] for row in snapshot if row[0] != "XAXX010101000"] == [MORAL]  # page 1 kept whole
    assert after_failure == "1"
    assert (recovered.result, recovered.created) == ("success", 1)


def test_a_fault_that_passes_within_the_retries_ends_in_success(company):
    with qr_server([receiver(MORAL)]) as server:
        connection = qr_connection(company, server.url)
        server.faults = ["500"]
        run = run_now(connection)
    assert (run.result, run.created) == ("success", 1)
    assert [level for level, _ in events(run)][0] == "warning"


def test_wrong_credentials_fail_the_run_at_once(company):
    with qr_server([receiver(MORAL)]) as server:
        connection = qr_connection(company, server.url)
        save_connection(connection=connection, credentials="otra")
        run = run_now(connection)
        assert server.requests == 1
    assert run.result == "failed"
    assert events(run) == [("error", "CONTPAQi QR rechazó las credenciales de la conexión (HTTP 401).")]


# --- Non-overlap lock and dead workers -----------------------------------------------------


def test_a_run_that_finds_a_live_lease_is_recorded_as_skipped(company):
    connection = qr_connection(company, "http://127.0.0.1:9")
    holder = Run.objects.create(company=company, connection=connection, trigger="manual", status="running")
    Connection.objects.filter(pk=connection.pk).update(
        lease_run=holder, lease_expires_at=timezone.now() + timedelta(minutes=1)
    )
    run = run_now(connection)
    assert (run.status, run.result) == ("done", "skipped")
    assert events(run) == [("info", SKIPPED_MESSAGE)]
    assert Run.objects.get(pk=holder.pk).status == "running"


def test_a_run_whose_worker_died_is_marked_failed_and_the_next_run_works(company):
    with qr_server([receiver(MORAL)]) as server:
        connection = qr_connection(company, server.url)
        dead = Run.objects.create(
            company=company, connection=connection, trigger="schedule", status="running"
        )
        Connection.objects.filter(pk=connection.pk).update(
            lease_run=dead, lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        run = run_now(connection)
    dead.refresh_from_db()
    assert (dead.status, dead.result) == ("done", "failed")
    assert events(dead) == [("error", DEAD_MESSAGE.format(run=dead.pk))]
    assert (run.result, run.created) == ("success", 1)
    assert Connection.objects.get(pk=connection.pk).lease_run is None


def test_a_redelivered_task_of_a_dead_run_does_not_resume_it(company):
    connection = qr_connection(company, "http://127.0.0.1:9")
    dead = Run.objects.create(company=company, connection=connection, trigger="schedule", status="running")
    Connection.objects.filter(pk=connection.pk).update(
        lease_run=dead, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    execute_run(run_id=dead.pk)
    dead.refresh_from_db()
    assert dead.result == "failed"
    assert Connection.objects.get(pk=connection.pk).lease_run is None


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_give_one_run_and_one_skipped(postgres_only, company):
    with qr_server([receiver(MORAL)]) as server:
        server.delay = 0.5
        connection = qr_connection(company, server.url)
        runs = [
            Run.objects.create(company=company, connection=connection, trigger="manual") for _ in range(2)
        ]
        barrier = threading.Barrier(2)

        def go(run):
            barrier.wait()
            try:
                execute_run(run_id=run.pk)
            finally:
                db_connection.close()

        threads = [threading.Thread(target=go, args=(run,)) for run in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    results = sorted(Run.objects.filter(pk__in=[r.pk for r in runs]).values_list("result", flat=True))
    assert results == ["skipped", "success"]
    assert Customer.objects.filter(company=company, rfc=MORAL).count() == 1


# --- Retention ----------------------------------------------------------------------------------


def test_events_older_than_the_retention_are_purged(company, settings):
    settings.SYNC_EVENT_RETENTION_DAYS = 90
    connection = qr_connection(company, "http://127.0.0.1:9")
    old = Event.objects.create(company=company, connection=connection, level="info", message="viejo")
    recent = Event.objects.create(company=company, connection=connection, level="info", message="reciente")
    Event.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=91))
    Event.objects.filter(pk=recent.pk).update(at=timezone.now() - timedelta(days=89))
    assert purge_old_events() == 1
    assert list(Event.objects.values_list("message", flat=True)) == ["reciente"]


def test_saving_a_connection_loaded_before_a_run_keeps_the_runs_cursor(company):
    with qr_server([receiver(MORAL)]) as server:
        connection = qr_connection(company, server.url)
        stale = Connection.objects.get(pk=connection.pk)
        run_now(connection)
        stale.period_minutes = 30
        save_connection(connection=stale)
    saved = Connection.objects.get(pk=connection.pk)
    assert (saved.cursor, saved.period_minutes, saved.credentials) == ("1", 30, "token-secreto-qr")
