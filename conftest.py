"""Test-suite plumbing: the embedded Redis when REDIS_URL is unset, real Celery workers and
web servers, a local SMTP sink, and the shared fixtures most tests need (team, service,
integration, users), built by the apps' tests/factories.py. Where fixtures and factories
live, and how to add one: tests/README.md."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.peers import SmtpSink, free_port, send_email_to

ROOT = Path(__file__).resolve().parent


@pytest.fixture(scope="session", autouse=True)
def _isolated_queue_and_cache():
    """Each pytest run gets its own Celery queue and cache key prefix (inherited through the
    environment by the workers and servers it starts), so concurrent runs on one machine,
    or messages left behind by an interrupted run, never reach another run's database."""
    from django.conf import settings
    from django.core.cache import caches

    from config.celery import app
    from config.env import celery_queues

    name = f"pagerline-test-{os.getpid()}"
    os.environ["PAGERLINE_QUEUE"] = os.environ["PAGERLINE_CACHE_PREFIX"] = name
    from incidents import task_names

    queues = celery_queues(name, notify_tasks=(task_names.SEND_NOTIFICATION,))
    for setting, value in queues.items():
        setattr(settings, setting, value)
        if setting.startswith("CELERY_"):
            setattr(app.conf, setting.removeprefix("CELERY_").lower(), value)
    caches["default"].key_prefix = name
    # Caches are per thread: threads that build theirs later (the kick thread) read this.
    caches.settings["default"]["KEY_PREFIX"] = name
    return name


@pytest.fixture(scope="session", autouse=True)
def _embedded_redis():
    """Start the embedded Redis for a laptop run (no REDIS_URL), as `make run` would."""
    if os.environ.get("REDIS_URL"):
        yield
        return
    from django.conf import settings

    from config import embedded

    pid = embedded.start(settings.VAR_DIR)
    yield
    if pid:
        embedded.stop(pid)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Give each pytest run its own test database, so concurrent runs on one machine
    (several developers' checkouts, or CI beside a developer) never drop each other's."""
    from django.conf import settings

    suffix = f"_{os.getpid()}"
    for database in settings.DATABASES.values():
        test = database.setdefault("TEST", {})
        if database["ENGINE"].endswith("sqlite3"):
            name = Path(test.get("NAME") or f"{database['NAME']}.test")
            test["NAME"] = str(name.with_name(f"{name.stem}{suffix}{name.suffix}"))
        else:
            test["NAME"] = f"{test.get('NAME') or 'test_' + database['NAME']}{suffix}"


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Tests create many users; the production hasher's deliberate slowness buys nothing here."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_signin_counters(monkeypatch, request):
    """Every test client signs in from 127.0.0.1: each test counts its failed sign-ins,
    reset requests and token guesses apart (core.signin_guard), so no test is throttled by
    the ones before it."""
    from core import signin_guard

    monkeypatch.setattr(signin_guard, "KEY_PREFIX", f"signin-guard-{id(request.node):x}")


def _database_url(settings_dict: dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{settings_dict['NAME']}"


def _host_env(env: dict[str, str], cwd: Path | None) -> dict[str, str]:
    """A process started in a working directory of its own (another host's checkout): the
    code is found through PYTHONPATH, and ./var (PAGERLINE_VAR_DIR) is that directory's."""
    if cwd is None:
        return env
    cwd.mkdir(parents=True, exist_ok=True)
    return {**env, "PYTHONPATH": str(ROOT), "PAGERLINE_VAR_DIR": str(cwd / "var")}


class WorkerProcess:
    """A real `celery worker` subprocess against the test database and the real broker,
    run in `cwd` (the checkout unless told otherwise)."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        extra_args: list[str],
        cwd: Path | None = None,
    ):
        self.env = _host_env(env, cwd)
        self.log_path = log_path
        self.extra_args = extra_args
        self.cwd = cwd or ROOT
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                *self.extra_args,
            ],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if b"ready." in self.log_path.read_bytes():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"celery worker did not start; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def team(db):
    from oncall.tests.factories import make_team

    return make_team(slug="payments", name="Payments", time_zone="Europe/Berlin")


@pytest.fixture
def service(team):
    from incidents.tests.factories import make_service

    return make_service(team, "checkout", "Checkout")


@pytest.fixture(params=["django view", "wsgi front"])
def hook_client(request, client):
    """The webhooks both ways they are served: the Django views, as the test client calls
    them, and config.wsgi.application, whose HookFront answers them in front of Django
    when gunicorn serves the app."""
    from tests.support import WsgiClient

    return client if request.param == "django view" else WsgiClient(host="testserver")


@pytest.fixture
def integration(service):
    """An Alertmanager integration and its plain token."""
    from incidents.tests.factories import make_integration

    return make_integration(service)


@pytest.fixture
def users(team):
    """manager, responder and viewer of `team`, and an outsider in another team."""
    from oncall.models import Role
    from oncall.tests.factories import make_membership, make_team, make_user

    result = {}
    for role in (Role.MANAGER, Role.RESPONDER, Role.VIEWER):
        result[role.value] = make_user(role.value)
        make_membership(team, result[role.value], role=role)
    other = make_team(slug="other", name="Other team")
    result["outsider"] = make_user("outsider")
    make_membership(other, result["outsider"], role=Role.MANAGER)
    return result


@pytest.fixture
def manager_client(client, users):
    """The test client, logged in as the manager of `team`."""
    client.force_login(users["manager"])
    return client


@pytest.fixture
def smtp(settings):
    """A local SMTP server collecting what is sent (tests.peers.SmtpSink), with Django's
    email pointed at it."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    send_email_to(settings, sink.port)
    yield sink
    controller.stop()


@pytest.fixture
def worker_env(transactional_db, settings, tmp_path):
    from django.db import connection

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "PYTEST_CURRENT_TEST"}
    }
    env["DATABASE_URL"] = _database_url(connection.settings_dict)
    env["PAGERLINE_VAR_DIR"] = str(settings.VAR_DIR)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def celery_worker(worker_env, tmp_path):
    """A running worker (with beat when a test asks via the `beat` marker argument)."""
    worker = WorkerProcess(worker_env, tmp_path / "worker.log", [])
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def make_worker(worker_env, tmp_path):
    """Start workers with custom arguments (e.g. `-B` for beat); all stopped at teardown."""
    workers: list[WorkerProcess] = []

    def start(
        *extra_args: str,
        name: str = "worker",
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> WorkerProcess:
        """`env` adds or overrides variables of the worker's environment; `cwd` runs it in a
        working directory of its own, with its own ./var (as on another host)."""
        args = list(extra_args)
        if "-B" in args:
            args += ["-s", str((cwd or tmp_path) / f"{name}-beat-schedule")]
        worker = WorkerProcess(
            {**worker_env, **(env or {})}, tmp_path / f"{name}.log", args, cwd=cwd
        )
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


class WebProcess:
    """A real gunicorn serving the app against the test database, on a free local port,
    with `make run`'s worker settings (gevent on PostgreSQL, sync on SQLite)."""

    def __init__(
        self, env: dict[str, str], log_path: Path, workers: int = 2, cwd: Path | None = None
    ):
        self.env = _host_env(env, cwd)
        self.log_path = log_path
        self.workers = workers
        self.cwd = cwd or ROOT
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import urllib.request

        from config.launch import web_server_args

        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                *web_server_args(self.workers, self.env["DATABASE_URL"]),
                "--graceful-timeout",
                "10",
            ],
            cwd=self.cwd,
            env={**self.env, "ALLOWED_HOSTS": "127.0.0.1,localhost"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):  # noqa: S310
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the arbiter and its workers, as a host that dies would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Graceful stop (SIGTERM): in-flight requests finish, as in a rolling restart."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


@pytest.fixture
def make_web(worker_env, tmp_path):
    """Start real gunicorn servers against the test database; all stopped at teardown."""
    servers: list[WebProcess] = []

    def start(
        name: str = "web",
        workers: int = 2,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> WebProcess:
        """`env` adds or overrides variables; `cwd`: as make_worker's."""
        server = WebProcess({**worker_env, **(env or {})}, tmp_path / f"{name}.log", workers, cwd)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
