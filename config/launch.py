"""`make run`: migrate, load demo data, then run the web server, a Celery worker and Celery
beat together (plus the embedded Redis when REDIS_URL is unset) until Ctrl-C.

Usage: python -m config.launch [--host 127.0.0.1] [--port 8000] [--no-demo]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def web_server_args(workers: int = 0, database_url: str | None = None) -> list[str]:
    """gunicorn's worker settings, for `make run`, bench/ingest.py and the tests' servers.

    On PostgreSQL: one gevent worker per core. A process answers many requests at once, so
    the webhooks it is answering share one commit (incidents.intake.group_commit) instead
    of each paying a round trip and a commit; Django's connections come from a per-process
    pool (config.env.database_from_url); after each request the process lets its other
    requests run (config.gunicorn_conf.post_request). Measured in docs/performance.md.

    On SQLite (no DATABASE_URL): sync workers, 2 x cores + 1 (at most 9). SQLite serialises
    writers with a lock that blocks the whole process while it waits, which would stall
    every greenlet of a gevent worker.

    `database_url`: the server's DATABASE_URL, when it is not this process's.
    """
    cores = os.cpu_count() or 1
    url = os.environ.get("DATABASE_URL", "") if database_url is None else database_url
    if url.startswith(("postgres:", "postgresql:", "pgsql:")):
        return [
            "--worker-class",
            "gevent",
            "--workers",
            str(workers or cores),
            "--config",
            str(ROOT / "config" / "gunicorn_conf.py"),  # as a file: importing the `config`
            # package would load the settings in the arbiter, before gevent patches threading
        ]
    return ["--worker-class", "sync", "--workers", str(workers or min(9, 2 * cores + 1))]


def _manage(*args: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def _wait_ready(url: str, processes: dict[str, subprocess.Popen], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} during start-up")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our server
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout}s")


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-demo", action="store_true", help="skip loading demo data")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("PAGERLINE_BASE_URL", f"http://{args.host}:{args.port}")
    import django

    django.setup()
    from django.conf import settings

    from config import embedded

    redis_pid = embedded.start(settings.VAR_DIR) if settings.REDIS_EMBEDDED else None
    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print("Migrating the database ...", flush=True)
        _manage("migrate", "--noinput")
        demo = "" if args.no_demo else _manage("seed_demo")
        logs = settings.VAR_DIR / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        python = sys.executable
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"{args.host}:{args.port}",
                *web_server_args(),
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(settings.VAR_DIR / "celerybeat-schedule"),
            ],
        }
        for name, command in commands.items():
            log = (logs / f"{name}.log").open("ab")
            processes[name] = subprocess.Popen(  # noqa: S603 - fixed argv
                command,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base = f"http://{args.host}:{args.port}"
        _wait_ready(f"{base}/readyz", processes)
        print(f"\nPagerline is running at {base}/", flush=True)
        for line in demo.splitlines():
            print(f"  {line}", flush=True)
        print(f"  logs: {logs}/  (web, worker, beat)", flush=True)
        print("Press Ctrl-C to stop.\n", flush=True)
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; stopping", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        print(f"start-up failed: {exc}\n{detail}", file=sys.stderr)
        return 1
    finally:
        print("Stopping ...", flush=True)
        _stop(processes)
        if redis_pid:
            embedded.stop(redis_pid)
        print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
