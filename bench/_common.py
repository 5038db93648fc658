"""What the benchmarks of the running stack share (bench/ingest.py, bench/paging.py): a fresh
PostgreSQL database and Redis, gunicorn with `make run`'s settings, a Celery worker, wrk.

Each benchmark runs as a script (`python bench/<name>.py`), so this folder is on sys.path
and they `import _common`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the project's packages, for the benchmark's own process


def parse_wrk(output: str) -> dict:
    def duration(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    requests = int(re.search(r"(\d+) requests in", output)[1])
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.M))
    return {
        "requests": requests,
        "non_2xx": int(non_2xx[1]) if non_2xx else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50_ms": duration(latency["50"]),
        "p99_ms": duration(latency["99"]),
    }


def wrk(script: str, url: str, concurrency: int, seconds: int, env: dict, threads=2) -> dict:
    """Run wrk with bench/<script> for `seconds`; its figures (parse_wrk)."""
    result = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(concurrency),
            "-d",
            f"{seconds}s",
            "--latency",
            "--timeout",
            "5s",
            "-s",
            str(ROOT / "bench" / script),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_wrk(result.stdout)


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def stack_env(*, database: str, redis_db: int, var: str, **extra: str) -> dict:
    """The environment of the benchmark's processes (web, worker, wrk and this one): its own
    PostgreSQL database (BENCH_DATABASE_URL, default `database` on 127.0.0.1), Redis
    database (BENCH_REDIS_URL), var directory (BENCH_VAR_DIR) and queue. Each benchmark has
    its own defaults, so two different ones can run at once."""
    var = Path(os.environ.get("BENCH_VAR_DIR", var))
    var.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DATABASE_URL": os.environ.get(
            "BENCH_DATABASE_URL", f"postgres://root@127.0.0.1:5432/{database}"
        ),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", f"redis://127.0.0.1:6379/{redis_db}"),
        "PAGERLINE_VAR_DIR": str(var),
        "PAGERLINE_BENCH_VIEWS": "1",
        "PAGERLINE_CACHE_PREFIX": "bench",
        "PAGERLINE_QUEUE": "bench",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def fresh_stack(env: dict) -> None:
    """Recreate the database, empty the Redis database, migrate, and set Django up in this
    process with `env`."""
    recreate_database(env["DATABASE_URL"])
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM each process's group (warm shutdown), then wait for them."""
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        process.wait(timeout=60)


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout}s")


def web_server(*, port: int, workers: int = 0, worker_class=None, threads=None) -> list[str]:
    """gunicorn's arguments: make run's settings (config.launch.web_server_args) unless told."""
    from config.launch import web_server_args

    server = ["--bind", f"127.0.0.1:{port}", *web_server_args(workers)]
    if worker_class:
        server += ["--worker-class", worker_class]  # gunicorn takes the last one given
    if threads:
        server += ["--threads", str(threads)]
    return server


def web_command(server: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        *server,
        "--log-level",
        "warning",
    ]


def celery_command(*, processes: int, nice: int = 0, app: str = "config") -> list[str]:
    return [
        *(["nice", "-n", str(nice)] if nice else []),
        sys.executable,
        "-m",
        "celery",
        "-A",
        app,
        "worker",
        "--loglevel",
        "WARNING",
        "--concurrency",
        str(processes),
        "--without-gossip",
        "--without-mingle",
    ]


def group_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of every live process in `pid`'s process group (a process
    started by `start` and its children, e.g. gunicorn's or Celery's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, ..., utime (14th field), stime (15th).
        if int(fields[2]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks
