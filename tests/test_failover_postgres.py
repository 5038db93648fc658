"""PostgreSQL restarted in the middle of a storm of webhooks (issue #17, "PostgreSQL restart").

The test runs its own PostgreSQL (initdb in a temporary directory, on a free port, as the
`postgres` user since PostgreSQL refuses root), so the shared server is untouched, and
serves it to a real gunicorn and a real Celery worker with beat. 16 senders post distinct
alert groups and retry anything but a 2xx, as Alertmanager does; 5 s in, PostgreSQL is
stopped for 3 s and started again. While it is down webhooks answer 503 and /readyz says
the database is unreachable; afterwards the same processes reconnect by themselves, every
accepted alert is applied exactly once, and quickly: a worker whose batch failed on the
lost connection hands its claim back instead of leaving it "processing" until
PAGERLINE_CLAIM_TIMEOUT_SECONDS (60 s here) expires.

The pytest-django test database is not used by the processes: results are read from the
private server with psycopg."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import requests

from incidents.models import Alert, AlertDelivery, Incident, IncidentEvent
from tests.peers import free_port
from tests.storm import Storm
from tests.support import manage, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.peer, pytest.mark.django_db(transaction=True)]

CLAIM_TIMEOUT = 60  # the default, set explicitly: without the give-back the test waits it out
STORM_SECONDS = 15.0
RESTART_AT = 5.0  # seconds into the storm
DOWN_SECONDS = 3.0
SENDERS = 16
RECOVERY_LIMIT = 20.0  # seconds from "database back" to the last accepted alert applied


def _postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    return Path(versions[-1]).parent if versions else None


PG_BIN = _postgres_bin()
if PG_BIN is None or not (PG_BIN / "initdb").exists():
    pytest.skip(
        "needs PostgreSQL's initdb and pg_ctl (Debian: apt-get install postgresql; "
        "looked in PATH and /usr/lib/postgresql/*/bin)",
        allow_module_level=True,
    )


class PrivatePostgres:
    """A PostgreSQL server of the test's own, in `root`, on a free port."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root, and there is no `postgres` user to run PostgreSQL")
            os.chown(root, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def url(self, database: str = "pagerline") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self.as_owner, *command], check=True, capture_output=True, timeout=60, cwd=self.root
        )

    def initdb(self) -> None:
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nmax_connections = 60\n"
                "shared_buffers = 32MB\n"
            )

    def start(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


@pytest.fixture
def private_postgres():
    root = Path(tempfile.mkdtemp(prefix="pagerline-pg-"))
    server = PrivatePostgres(root)
    try:
        server.initdb()
        server.start()
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE pagerline")
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def _manage(env: dict[str, str], *args: str) -> str:
    done = manage(env, *args, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


_INTEGRATION = """
from incidents.tests.factories import make_integration, make_service
from oncall.tests.factories import make_team
_, token = make_integration(make_service(make_team(slug="payments")))
print(token)
"""


def _watch_readyz(url: str, stop, seen: list[tuple[float, int, str]]) -> None:
    """Poll /readyz until `stop` is set, noting (time, status, message)."""
    while not stop.is_set():
        try:
            response = requests.get(f"{url}/readyz", timeout=15)
            seen.append((time.time(), response.status_code, response.text))
        except requests.RequestException as exc:
            seen.append((time.time(), 0, str(exc)))
        time.sleep(0.5)


def test_a_postgresql_restart_mid_storm_loses_nothing_and_recovers_at_once(
    private_postgres, worker_env, make_web, make_worker
):
    server = private_postgres
    worker_env["DATABASE_URL"] = server.url()
    worker_env["PAGERLINE_CLAIM_TIMEOUT_SECONDS"] = str(CLAIM_TIMEOUT)
    worker_env["PAGERLINE_REDRIVE_AFTER_SECONDS"] = "5"
    _manage(worker_env, "migrate", "--noinput", "-v", "0")
    token = _manage(worker_env, "shell", "-c", _INTEGRATION).strip().splitlines()[-1]
    web = make_web("web")
    make_worker("-B", name="worker")

    # Senders retry each body until it is accepted, as Alertmanager does.
    storm = Storm(
        f"{web.url}/hooks/alertmanager/{token}",
        attempts=None,
        timeout=10,
        retry_pause=0.2,
        pause=0.01,  # a little air for the other processes on the machine
    )
    ready: list[tuple[float, int, str]] = []
    with storm.running(
        SENDERS, also=[lambda: _watch_readyz(web.url, storm.stop, ready)], join_timeout=30
    ):
        started = time.time()
        time.sleep(RESTART_AT)
        server.stop("fast")  # every connection is cut, in-flight transactions roll back
        down_at = time.time()
        time.sleep(DOWN_SECONDS)
        server.start()
        back_at = time.time()
        time.sleep(max(0.0, started + STORM_SECONDS - time.time()))
    stopped_at = storm.stopped_at

    # While it was down: 503s with a clear message, and /readyz said why.
    outage = [r for r in storm.refusals if down_at <= r[0] <= back_at + 1]
    assert any(status == 503 for _, status, _ in outage), storm.refusals[:5]
    assert all(status == 503 for _, status, _ in storm.refusals), storm.refusals[:5]
    assert all("storage is unavailable" in text for _, _, text in storm.refusals)
    unready = [r for r in ready if r[1] == 503]
    assert unready, ready
    assert all("database unreachable" in text for _, _, text in unready), unready
    # Afterwards the same web process is ready again by itself.
    wait_for(
        lambda: requests.get(f"{web.url}/readyz", timeout=5).status_code == 200,
        timeout=15,
        interval=0.5,
        message="/readyz did not recover",
    )

    accepted = {a.delivery: a.key for a in storm.accepted}
    keys = set(accepted.values())
    assert len(accepted) > 200, f"the storm was too small to prove anything: {len(accepted)}"
    deliveries, incidents = AlertDelivery._meta.db_table, Incident._meta.db_table

    def applied(conn) -> tuple[int, float] | None:
        rows = conn.execute(
            f"SELECT count(*), max(extract(epoch FROM processed_at))::float8 FROM {deliveries} "  # noqa: S608
            "WHERE id = ANY(%s) AND status = 'processed'",
            [list(accepted)],
        ).fetchone()
        return rows if rows[0] == len(accepted) else None

    with psycopg.connect(server.url(), autocommit=True) as conn:
        count, last_applied = wait_for(
            lambda: applied(conn),
            timeout=CLAIM_TIMEOUT + 30,
            interval=0.5,
            message="accepted deliveries left unprocessed",
        )
        stuck = conn.execute(
            f"SELECT status, count(*) FROM {deliveries} GROUP BY status"  # noqa: S608
        ).fetchall()
        incident_count, distinct_keys = conn.execute(
            f"SELECT count(*), count(DISTINCT dedup_key) FROM {incidents}"  # noqa: S608
        ).fetchone()
        incident_keys = {
            key
            for (key,) in conn.execute(f"SELECT dedup_key FROM {incidents}")  # noqa: S608
        }
        alerts = conn.execute(f"SELECT count(*) FROM {Alert._meta.db_table}").fetchone()[0]  # noqa: S608
        triggered = conn.execute(
            f"SELECT count(*) FROM {IncidentEvent._meta.db_table} WHERE kind = 'triggered'"  # noqa: S608
        ).fetchone()[0]
    recovery = last_applied - back_at
    print(
        f"\naccepted {len(accepted)} deliveries ({len(keys)} keys); "
        f"{len(storm.refusals)} refused (503) and {storm.errors} failed requests; "
        f"/readyz 503 {len(unready)} times; PostgreSQL down {back_at - down_at:.1f} s; "
        f"last accepted alert applied {recovery:.1f} s after it was back "
        f"({last_applied - down_at:.1f} s after the fault, {last_applied - stopped_at:.1f} s "
        f"after the storm ended); deliveries by status {stuck}"
    )
    assert count == len(accepted)
    assert "failed" not in dict(stuck)
    # Exactly once: every accepted key has one incident, no key has two.
    assert keys <= incident_keys
    assert incident_count == distinct_keys
    assert alerts == incident_count and triggered == incident_count
    assert recovery < RECOVERY_LIMIT, (
        f"the last accepted alert was applied {recovery:.1f} s after PostgreSQL was back "
        f"(claim timeout {CLAIM_TIMEOUT} s)"
    )
