"""Services nested in a business action join its transaction: no savepoint of their own, and a
failure anywhere undoes the whole action."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.errors import DomainError
from erp.models import Currency
from erp.transactions import business_action

pytestmark = pytest.mark.django_db


@business_action
def _add_currency(code: str) -> None:
    Currency.objects.create(code=code, name=f"Moneda {code}", decimals=2)


@business_action
def _refuse() -> None:
    raise DomainError("rechazo", "La acción anidada se rechaza.")


@business_action
def _add_two_then(code: str, *, then) -> None:
    _add_currency(code)
    _add_currency(code[:2] + "2")
    then()


def _savepoints(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith("SAVEPOINT"))


def test_nested_actions_open_no_savepoint_of_their_own():
    with CaptureQueriesContext(connection) as captured:
        _add_two_then("ZZA", then=lambda: None)
    # The test runs inside a transaction: the outer action's savepoint, and none for the inner ones.
    assert _savepoints(captured.captured_queries) == 1
    assert set(Currency.objects.filter(code__in=["ZZA", "ZZ2"]).values_list("code", flat=True)) == {
        "ZZA",
        "ZZ2",
    }


def test_a_nested_failure_undoes_the_whole_action_and_leaves_the_caller_usable():
    with pytest.raises(DomainError, match="anidada"):
        _add_two_then("ZZB", then=_refuse)
    assert not Currency.objects.filter(code__in=["ZZB", "ZZ2"]).exists()
    _add_currency("ZZC")  # the caller's transaction goes on after the refusal
    assert Currency.objects.filter(code="ZZC").exists()
    assert not getattr(connection, "in_business_action", False)
