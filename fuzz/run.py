"""``make fuzz``: schemathesis, stateful phase included, against a freshly seeded server; fails on
any 5xx (issue 21).

The database named by FUZZ_DATABASE_URL (default: SQLite at var/fuzz.sqlite3, recreated) is
migrated, emptied and loaded with the demo company plus opening stock, so generated requests
reach real ids: posting, cancelling, sealing (the local sandbox PAC, in-process), sending (mail to
a local in-memory backend) and linking all run. A gunicorn on loopback serves it; schemathesis
runs every phase for FUZZ_SECONDS as the accountant (the role that may do the most). The figures
come from the server's own access log: requests answered and how many were 5xx; the run fails
when any 5xx was answered or when schemathesis' not_a_server_error check failed.

    make fuzz                           # 900 s against SQLite
    make fuzz-quick                     # bounded: 20 examples per operation (FUZZ_MAX_EXAMPLES)
    FUZZ_SECONDS=120 FUZZ_DATABASE_URL=postgres://postgres@127.0.0.1:5432/erp_fuzz make fuzz
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
REPORT = VAR / "fuzz"
SECONDS = int(os.environ.get("FUZZ_SECONDS", "900"))
# Bounded mode: at most this many generated cases per operation (and phase); the run ends when
# every operation had them (FUZZ_SECONDS still caps it), instead of fuzzing for FUZZ_SECONDS.
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "")
WORKERS = os.environ.get("FUZZ_WORKERS", "2")
SEED = os.environ.get("FUZZ_SEED", "21")
PYTHON = sys.executable
BIN = Path(PYTHON).parent
ACCESS = re.compile(r'" (\d{3}) ')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment() -> dict:
    env = dict(os.environ)
    env["DATABASE_URL"] = os.environ.get("FUZZ_DATABASE_URL", f"sqlite:///{VAR / 'fuzz.sqlite3'}")
    env["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    env["MEDIA_ROOT"] = str(REPORT / "media")
    env["LOG_LEVEL"] = "WARNING"
    env.pop("CELERY_BROKER_URL", None)  # sealing, PDF and mail run in-process, as `make run`
    return env


def manage(env, *args) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


SEED_DATA = """
from decimal import Decimal
from datetime import date
from inventory.models import Product, Warehouse
from inventory.services import create_stock_movement
from demo.services import load_demo

demo = load_demo()
for code in ("ALM", "MOS"):
    warehouse = Warehouse.objects.get(company=demo.company, code=code)
    goods = Product.objects.filter(company=demo.company, is_service=False)
    create_stock_movement(
        company=demo.company, warehouse=warehouse, kind="entry", date=date.today().replace(day=1),
        concept="Inventario inicial (fuzz)",
        lines=[{"product": p, "quantity": Decimal("100000"), "unit_cost": Decimal("5")} for p in goods],
    )
"""


def seed(env) -> None:
    database = env["DATABASE_URL"]
    if database.startswith("sqlite:///"):
        Path(database.removeprefix("sqlite:///")).unlink(missing_ok=True)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "flush", "--noinput")
    manage(env, "shell", "-c", SEED_DATA)


def token(base: str) -> str:
    data = b"username=contador&password=demo-2026"
    with urllib.request.urlopen(f"{base}/api/auth/token/", data=data, timeout=30) as response:
        return json.load(response)["token"]


def wait_for(base: str) -> None:
    for _ in range(120):
        try:  # the schema takes seconds to build on a loaded machine: wait for it, do not re-ask
            urllib.request.urlopen(f"{base}/api/schema/", timeout=120).read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("El servidor de fuzz no respondió.")


def main() -> int:
    shutil.rmtree(REPORT, ignore_errors=True)
    REPORT.mkdir(parents=True)
    env = environment()
    seed(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    access_log = REPORT / "access.log"
    error_log = REPORT / "server.log"
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "erp.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "2",
         "--timeout", "120", "--access-logfile", str(access_log), "--error-logfile", str(error_log)],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(base)
        auth = token(base)
        started = time.monotonic()
        bounded = ["--max-examples", MAX_EXAMPLES] if MAX_EXAMPLES else []
        fuzz = subprocess.run(
            [str(BIN / "st"), "run", f"{base}/api/schema/", "-H", f"Authorization: Token {auth}",
             "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing,stateful",
             "--max-time", str(SECONDS), "--workers", WORKERS, "--seed", SEED, "--no-shrink",
             "--request-timeout", "120", "--suppress-health-check", "all",
             "--report", "junit", "--report-dir", str(REPORT), *bounded],
            cwd=ROOT, env=env,
        )  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    statuses = [m.group(1) for m in map(ACCESS.search, access_log.read_text().splitlines()) if m]
    errors = [s for s in statuses if s.startswith("5")]
    by_class = {f"{c}xx": sum(1 for s in statuses if s[0] == c) for c in "2345"}
    print(
        f"fuzz: {len(statuses)} requests in {elapsed:.0f} s ({len(statuses) / max(elapsed, 1):.1f}/s), "
        f"5xx: {len(errors)}; by class {by_class}; schemathesis exit {fuzz.returncode}; "
        f"log and report in {REPORT.relative_to(ROOT)}/"
    )
    return 1 if errors or fuzz.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
