"""Redis restarted under a worker that holds a message (an ETA task waiting for its time):
the worker reconnects and carries on instead of stopping with kombu's AttributeError
(config/broker.py). A real redis-server of the test's own, on a free port."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import redis

from incidents import task_names
from incidents.models import AlertDelivery, DeliveryStatus
from tests.peers import free_port
from tests.storm import post_alert
from tests.support import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.peer,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


class RedisServer:
    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._answers, timeout=10, message=f"redis-server did not start: {self.url}")

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.kill()


def test_the_worker_carries_on_when_redis_restarts_under_a_held_message(
    redis_server, integration, worker_env, make_worker, make_web
):
    from config.celery import app

    _, token = integration
    worker_env["REDIS_URL"] = redis_server.url
    worker_env["PAGERLINE_REDRIVE_AFTER_SECONDS"] = "1"
    web = make_web("web")
    worker = make_worker("-B", name="worker")
    with app.connection_for_write(redis_server.url) as connection:
        held = app.send_task(task_names.CHECK_HEARTBEATS, countdown=300, connection=connection)
    wait_for(
        lambda: f"{held.id}] received".encode() in worker.log_path.read_bytes(),
        timeout=10,
        message="the worker did not take the ETA task",
    )

    redis_server.kill()
    redis_server.start()  # the same port, empty: a restart without persistence

    delivery = post_alert(web.url, token, timeout=5)
    wait_for(
        lambda: AlertDelivery.objects.filter(id=delivery, status=DeliveryStatus.PROCESSED).exists(),
        timeout=30,
        interval=0.2,
        message=f"the delivery was not processed after the restart; see {worker.log_path}",
    )
    assert worker.process.poll() is None, f"the worker exited; see {worker.log_path}"
    assert b"Unrecoverable error" not in worker.log_path.read_bytes()
