"""Entries posted at once in the same month get distinct consecutive numbers (Postgres)."""

import threading
from datetime import date

import pytest
from django.db import connection

from accounting.models import JournalEntry
from accounting.services import post_journal_entry
from tests.factories import CompanyFactory
from tests.factories_ledgers import demo_chart


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_take_distinct_numbers(postgres_only):
    company = CompanyFactory()
    chart = demo_chart(company)
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def post():
        try:
            barrier.wait(timeout=10)
            post_journal_entry(
                company=company, kind="D", date=date(2026, 2, 3), concept="Concurrente",
                lines=[{"account": chart.caja, "debit": 1}, {"account": chart.ventas, "credit": 1}],
            )  # fmt: skip
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(JournalEntry.objects.values_list("number", flat=True)) == [1, 2, 3, 4]
