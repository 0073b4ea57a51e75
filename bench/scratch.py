"""What every bench shares: the scratch Postgres database it drops and recreates, and the
process's memory as /proc reports it."""

import sys
from pathlib import Path

from django.core.management import call_command
from django.db import connection


def recreate_database() -> None:
    """Drop and recreate the database DATABASE_URL names, then migrate it: never real data."""
    if connection.vendor != "postgresql":
        sys.exit(f"{sys.argv[0]} measures Postgres: set DATABASE_URL to a scratch database.")
    name = connection.settings_dict["NAME"]
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory in MB (``VmHWM``: its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0
