"""make run's web server on PostgreSQL (gevent workers): a burst of requests is answered
without opening a database connection per request."""

import threading
import time

import pytest
import requests
from django.db import connection

from core.services import api_token_create
from oncall.tests.factories import make_user

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="gevent workers serve PostgreSQL setups"
    ),
    pytest.mark.django_db(transaction=True),
]


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _connections_except(pids: list[int]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> ALL(%s)",
            [pids],
        )
        return cursor.fetchone()[0]


def test_a_burst_of_api_requests_shares_the_process_pool_of_connections(worker_env, make_web):
    user = make_user("api-user")
    _, token = api_token_create(user=user, name="burst")
    worker_env["PAGERLINE_DB_POOL_SIZE"] = "2"
    server = make_web("web", workers=1)
    statuses: list[int] = []
    most = 0
    done = threading.Event()

    test_pid = _backend_pid()

    def watch() -> None:
        nonlocal most
        pids = [test_pid, _backend_pid()]  # the server's connections only
        while not done.is_set():
            most = max(most, _connections_except(pids))
            time.sleep(0.01)
        connection.close()

    def client() -> None:
        with requests.Session() as session:
            for _ in range(5):
                response = session.get(
                    f"{server.url}/api/v1/me/",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=20,
                )
                statuses.append(response.status_code)

    watcher = threading.Thread(target=watch)
    watcher.start()
    clients = [threading.Thread(target=client) for _ in range(20)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=60)
    done.set()
    watcher.join(timeout=10)

    assert statuses == [200] * 100
    # 20 requests in hand at once, at most 2 connections: the pool's, handed back after each
    # request (without it every request greenlet opens and keeps its own).
    assert 1 <= most <= 2
