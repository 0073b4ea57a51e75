"""One business action, one transaction."""

import functools

from django.db import transaction


def business_action(func):
    """``transaction.atomic`` for a service function (one business action).

    Called from inside another business action, it joins that action's transaction instead of
    opening a savepoint: an action succeeds or fails as a whole (no service catches another
    service's error to carry on), so a savepoint per nested call would only cost two round trips
    (posting an invoice nests five). Called from anywhere else (a view, a task, the admin, a
    test), it is plain ``transaction.atomic``, with its savepoint when already in a transaction.
    """

    @functools.wraps(func)
    def run(*args, **kwargs):
        connection = transaction.get_connection()
        if getattr(connection, "in_business_action", False):
            return func(*args, **kwargs)
        with transaction.atomic():
            connection.in_business_action = True
            try:
                return func(*args, **kwargs)
            finally:
                connection.in_business_action = False

    return run


class _RolledBack(Exception):
    pass


def dry_run(action, /, **kwargs) -> None:
    """Run ``action`` and roll back what it wrote: it raises what the real run would raise and
    changes nothing. A step that cannot be undone locally (asking SAT to cancel a CFDI) is taken
    only after a dry run of the local step that must follow it."""
    connection = transaction.get_connection()
    outer = getattr(connection, "in_business_action", False)
    try:
        with transaction.atomic():  # its own savepoint even inside a business action
            connection.in_business_action = True
            try:
                action(**kwargs)
            finally:
                connection.in_business_action = outer
            raise _RolledBack
    except _RolledBack:
        pass
