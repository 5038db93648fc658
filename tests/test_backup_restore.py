"""Backup and restore, as docs/operations.md ("Backup and restore") tells an operator to do
it: `pg_dump -Fc` of a database with real incidents, `pg_restore` into a fresh database,
then against the restored copy `rebuild_incidents --check` and `migrate --check` pass, and a
web server and a worker on it turn a webhook into an incident."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess

import psycopg
import pytest
import requests
from django.db import connection

from incidents.models import Incident, IncidentEvent, IncidentStatus
from incidents.timeline import actions
from tests.storm import post_alert
from tests.support import am_alert, am_payload, manage, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.peer,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="pg_dump and pg_restore back up PostgreSQL"
    ),
    pytest.mark.skipif(
        not (shutil.which("pg_dump") and shutil.which("pg_restore")),
        reason="pg_dump / pg_restore (the PostgreSQL client) are not installed",
    ),
    pytest.mark.django_db(transaction=True),
]


def _client_args(settings_dict: dict) -> list[str]:
    """pg_dump / pg_restore connection options for Django's database settings."""
    args = ["--no-password"]
    if settings_dict.get("HOST"):
        args += ["--host", settings_dict["HOST"]]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", settings_dict["USER"]]
    return args


def _client_env(settings_dict: dict) -> dict[str, str]:
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return env


def _connect(settings_dict: dict, dbname: str) -> psycopg.Connection:
    return psycopg.connect(
        dbname=dbname,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        autocommit=True,
    )


@pytest.fixture
def restored_database(django_db_setup):
    """The name of a fresh, empty database to restore into; dropped (WITH (FORCE), so
    whatever still holds a connection to it is cut off) at teardown, test passed or not.
    Requested before the servers, so it is torn down after they have stopped."""
    settings_dict = connection.settings_dict
    name = f"pagerline_restore_{os.getpid()}_{secrets.token_hex(3)}"
    with _connect(settings_dict, "postgres") as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with _connect(settings_dict, "postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _url(settings_dict: dict, dbname: str) -> str:
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{dbname}"


def test_a_restored_backup_checks_out_and_opens_incidents(
    restored_database, integration, worker_env, make_worker, make_web, tmp_path
):
    _, token = integration
    settings_dict = connection.settings_dict

    # Real data: incidents opened by webhooks through gunicorn and a Celery worker, one of
    # them acknowledged and one resolved by its alert, so timelines have several events.
    web = make_web("web")
    worker = make_worker(name="worker")
    for n in range(3):
        post_alert(web.url, token, f"before-backup-{n}")
    wait_for(lambda: Incident.objects.count() == 3, timeout=30, message="3 incidents")
    first, second, _third = Incident.objects.order_by("pk")
    actions.incident_acknowledge(incident_id=first.pk, actor_label="backup test")
    resolved = am_payload(
        am_alert(status="resolved", fingerprint="fp-before-backup-1"), group_key="before-backup-1"
    )
    response = requests.post(
        f"{web.url}/hooks/alertmanager/{token}",
        data=json.dumps(resolved),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 202
    wait_for(
        lambda: Incident.objects.get(pk=second.pk).status == IncidentStatus.RESOLVED,
        timeout=30,
        message="the resolved alert resolves its incident",
    )
    # The old deployment is gone before the copy is brought up (it would share the queue).
    web.stop()
    worker.stop()
    before = {row.pk: (row.status, row.dedup_key) for row in Incident.objects.all()}

    # The backup and the restore, as documented.
    dump = tmp_path / "pagerline.dump"
    client_args = _client_args(settings_dict)
    client_env = _client_env(settings_dict)
    subprocess.run(
        ["pg_dump", "-Fc", *client_args, "--file", str(dump), settings_dict["NAME"]],
        env=client_env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert dump.stat().st_size > 0
    restored_env = {
        "DATABASE_URL": _url(settings_dict, restored_database),
        "PAGERLINE_QUEUE": f"{worker_env['PAGERLINE_QUEUE']}-restored",
        "PAGERLINE_CACHE_PREFIX": f"{worker_env['PAGERLINE_CACHE_PREFIX']}-restored",
    }
    env = {**worker_env, **restored_env}
    # The fresh database lacks every migration: `migrate --check` tells, so its silence
    # after the restore means something.
    assert manage(env, "migrate", "--check").returncode != 0
    subprocess.run(
        [
            "pg_restore",
            *client_args,
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            restored_database,
            str(dump),
        ],
        env=client_env,
        check=True,
        capture_output=True,
        timeout=120,
    )

    # Against the restored copy (its own database, queue and cache keys).
    check = manage(env, "rebuild_incidents", "--check", "--progress-every", "0")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "3 incidents replayed, 0 differed from their events" in check.stdout
    migrate = manage(env, "migrate", "--check")
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert "Apply" not in migrate.stdout

    with _connect(settings_dict, restored_database) as copy:
        rows = copy.execute(
            f"SELECT id, status, dedup_key FROM {Incident._meta.db_table}"  # noqa: S608
        ).fetchall()
    assert {pk: (status, key) for pk, status, key in rows} == before
    # The database itself still keeps the timelines append-only (migrations 0002, 0011).
    with (
        _connect(settings_dict, restored_database) as copy,
        pytest.raises(psycopg.Error, match="append-only"),
    ):
        copy.execute(f"UPDATE {IncidentEvent._meta.db_table} SET seq = seq")  # noqa: S608

    restored_web = make_web("restored-web", env=restored_env)
    make_worker(name="restored-worker", env=restored_env)
    post_alert(restored_web.url, token, "after-restore")

    def opened_on_the_copy():
        with _connect(settings_dict, restored_database) as copy:
            return copy.execute(
                f"SELECT status FROM {Incident._meta.db_table} WHERE dedup_key LIKE %s",  # noqa: S608
                ["%after-restore%"],
            ).fetchall()

    assert wait_for(opened_on_the_copy, timeout=30, message="an incident on the restored copy") == [
        (IncidentStatus.TRIGGERED.value,)
    ]
    # The token, the service and its integration came back with the data; the original
    # database saw nothing of it.
    assert not Incident.objects.filter(dedup_key__contains="after-restore").exists()
