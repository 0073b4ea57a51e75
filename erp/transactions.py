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
