"""Behind PgBouncer in transaction pooling mode (docs/operations.md, "PgBouncer"): with
PAGERLINE_PGBOUNCER=true, a web server and a worker sharing a few server connections turn
webhooks into incidents, and the maintenance commands run through it too."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection

from incidents.models import Incident
from tests.peers import free_port
from tests.support import am_alert, am_payload, manage, wait_for

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
)
SERVER_CONNECTIONS = 3  # fewer than the clients below: they must take turns

pytestmark = [
    pytest.mark.integration,
    pytest.mark.peer,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PgBouncer pools PostgreSQL"),
    pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is not installed"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def pgbouncer(django_db_setup):
    """A PgBouncer in transaction pooling mode in front of the test database's server, on a
    free port; stopped and its files removed at teardown. Yields (port, log path)."""
    settings_dict = connection.settings_dict
    # PgBouncer refuses to run as root; as `nobody` it must be able to read its files.
    directory = Path(tempfile.mkdtemp(prefix="pagerline-pgbouncer-"))
    directory.chmod(0o755)
    port = free_port()
    user = settings_dict.get("USER") or os.environ.get("USER", "postgres")
    (directory / "userlist.txt").write_text(f'"{user}" "{settings_dict.get("PASSWORD") or ""}"\n')
    (directory / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={settings_dict.get('HOST') or '127.0.0.1'} "
        f"port={settings_dict.get('PORT') or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {directory / 'userlist.txt'}\n"
        f"pool_mode = transaction\ndefault_pool_size = {SERVER_CONNECTIONS}\n"
        "max_client_conn = 200\n"
    )
    for path in directory.iterdir():
        path.chmod(0o644)
    log_path = directory / "pgbouncer.log"
    args = [PGBOUNCER, str(directory / "pgbouncer.ini")]
    if os.geteuid() == 0:
        args[1:1] = ["-u", "nobody"]
    with log_path.open("ab") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                psycopg.connect(
                    host="127.0.0.1", port=port, user=user, dbname=settings_dict["NAME"]
                ).close()
                break
            except psycopg.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pgbouncer did not start: {log_path.read_text()}") from None
                time.sleep(0.1)
        yield port, log_path
    finally:
        process.send_signal(signal.SIGINT)  # safe shutdown: waits for clients to finish
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def test_web_and_worker_work_through_pgbouncer_in_transaction_mode(
    pgbouncer, integration, worker_env, make_web, make_worker, tmp_path
):
    port, pgbouncer_log = pgbouncer
    _, token = integration
    settings_dict = connection.settings_dict
    user = settings_dict.get("USER") or ""
    env = {
        "DATABASE_URL": f"postgres://{user}@127.0.0.1:{port}/{settings_dict['NAME']}",
        "PAGERLINE_PGBOUNCER": "true",
    }
    # gevent web workers (a pool each, and the webhook committer's connection) and a
    # prefork worker: more clients than the server connections PgBouncer has for them.
    web = make_web("web", workers=2, env=env)
    make_worker(name="worker", env=env)

    failures: list[str] = []

    def sender(n: int) -> None:
        with requests.Session() as session:
            for i in range(10):
                key = f"bouncer-{n}-{i}"
                response = session.post(
                    f"{web.url}/hooks/alertmanager/{token}",
                    data=json.dumps(am_payload(am_alert(fingerprint=f"fp-{key}"), group_key=key)),
                    headers={"Content-Type": "application/json"},
                    timeout=20,
                )
                if response.status_code != 202:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    wait_for(lambda: Incident.objects.count() == 40, timeout=60, message="40 incidents")

    check = manage({**worker_env, **env}, "rebuild_incidents", "--check", "--progress-every", "0")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "40 incidents replayed, 0 differed" in check.stdout

    # It all went through PgBouncer, and nothing tripped over a pooled server connection.
    assert f"login attempt: db={settings_dict['NAME']}" in pgbouncer_log.read_text()
    logs = "".join(path.read_text(errors="replace") for path in tmp_path.glob("*.log"))
    for trouble in ("prepared statement", "cursor", "Traceback", "ERROR"):
        assert trouble not in logs
