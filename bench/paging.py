"""Paging storm benchmark: new incidents at a fixed rate, each paging a person on three
channels; how long from an alert accepted to the first message naming its incident.

    .venv/bin/python bench/paging.py              # 1,000 alerts/s for 60 s (several minutes)
    .venv/bin/python bench/paging.py --small      # under a minute, as CI runs it
    .venv/bin/python bench/paging.py --profile    # the same with cProfile in the worker

It creates a fresh PostgreSQL database (default pagerline_paging on 127.0.0.1, Redis
database 13), starts local receivers (an SMTP sink, aiosmtpd; an HTTP server for webhooks
and Apprise json:// URLs), gunicorn with `make run`'s settings and a Celery worker
(prefork, --celery-processes), and sets up through the services: 10 people, each with an
email, an Apprise and a webhook contact method (verified) and a high-urgency rule at 0 min
for each; 10 weekly schedules of two people, so each person is on call for one; 50
services, each with an Alertmanager integration and a policy whose first step pages its
schedule's on-call person (service n: schedule n mod 10; then the next schedule after an
hour, which a run must not reach: it would page again). wrk (bench/wrk_storm.lua) offers
--rate new alert groups per second, round the services, for --seconds, after a short
warm-up storm that is left to drain first. Then, once every delivery is applied, every
escalation fired and every page sent, it prints from the database:

1. what was offered and accepted, and end to end: incidents whose escalation fired per
   second, and incidents paged on every channel per second (first accepted -> last);
2. per channel, per incident: accepted (the AlertDelivery's received_at) -> claimed_at of
   the first message naming it (its own row if it carried the message, else the row it
   is bundled_into): p50, p95, p99, max; and the same to its arrival at the receiver;
3. messages received by the receivers vs notification rows, and bundle sizes;
4. where the time went: CPU seconds of the web server, the worker, PostgreSQL's backends
   and this process (wrk and the receivers), and the worker's tasks and SQL statements
   per incident by task (bench/worker_profile.py); with --profile, the functions the
   worker spent its time in.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import _common
import _paging_report as report
import _paging_setup as setup

SCHEDULES = 10  # one per person


def _storm(base: str, env: dict, *, run: str, rate: int, seconds: int, connections: int):
    """Offer `rate` new incidents per second for `seconds`; (began, ended, wrk's figures)."""
    storm_env = {
        **env,
        "PAGERLINE_STORM_RUN": run,
        "PAGERLINE_STORM_RATE": str(rate),
        "PAGERLINE_STORM_THREADS": "2",
    }
    began = datetime.now(UTC)
    result = _common.wrk("wrk_storm.lua", base, connections, seconds, storm_env, threads=2)
    return began, datetime.now(UTC), result


def _drained(since: datetime) -> dict:
    """What is still to do for incidents of deliveries received since `since`."""
    from django.utils import timezone

    from incidents.models import AlertDelivery, IncidentEscalation, Notification

    now = timezone.now()
    return {
        "deliveries": AlertDelivery.objects.filter(status__in=["pending", "processing"]).count(),
        "escalations": IncidentEscalation.objects.filter(
            incident__detected_at__gte=since, last_fired_at__isnull=True
        ).count(),
        "notifications": Notification.objects.filter(status="sending").count()
        + Notification.objects.filter(status="pending", next_attempt_at__lte=now).count(),
    }


def _wait_drained(since: datetime, timeout: float) -> tuple[float, dict]:
    started = time.monotonic()
    while True:
        left = _drained(since)
        if not any(left.values()) or time.monotonic() - started > timeout:
            return time.monotonic() - started, left
        time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="50 alerts/s for 4 s (CI)")
    parser.add_argument("--rate", type=int, default=1000, help="new incidents per second")
    parser.add_argument("--seconds", type=int, default=60, help="how long the storm lasts")
    parser.add_argument("--warm-up", type=int, default=3, help="seconds of the warm-up storm")
    parser.add_argument("--connections", type=int, default=400, help="wrk connections")
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--celery-processes", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=0, help="default: as make run")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--drain-timeout", type=int, default=900)
    parser.add_argument("--profile", action="store_true", help="cProfile in the worker")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench/paging.py needs wrk: apt-get install wrk")
    if args.small:
        args.rate, args.seconds, args.warm_up = min(args.rate, 50), 4, 1

    receivers = setup.Receivers().start()
    env = _common.stack_env(
        database="pagerline_paging",
        redis_db=13,
        var="/tmp/pagerline-paging",
        PAGERLINE_WEBHOOK_PRIVATE_NETWORKS="127.0.0.0/8",
        EMAIL_URL=f"smtp://127.0.0.1:{receivers.smtp_port}",
        BENCH_CPROFILE="1" if args.profile else "0",
    )
    var = Path(env["PAGERLINE_VAR_DIR"])
    shutil.rmtree(var / "profile", ignore_errors=True)
    _common.fresh_stack(env)
    tokens = setup.storm_setup(
        people=args.people,
        schedules=min(SCHEDULES, args.people),
        services=args.services,
        http=receivers.http_base,
    )
    env["PAGERLINE_STORM_TOKENS"] = ",".join(tokens)
    from django.db import connection

    connection.close()
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # the verification codes' tasks

    base = f"http://127.0.0.1:{args.port}"
    server = _common.web_server(port=args.port, workers=args.web_workers)
    web = _common.start(_common.web_command(server), env, var / "web.log")
    worker = _common.start(
        _common.celery_command(processes=args.celery_processes, app="bench.worker_profile"),
        env,
        var / "worker.log",
    )
    processes = [web, worker]
    try:
        _common.wait_http(f"{base}/healthz")
        storm = functools.partial(_storm, base, env, rate=args.rate, connections=args.connections)
        # Warm up web and worker with a short storm of its own, and let it drain.
        warm_began, _, _ = storm(run="warm", seconds=args.warm_up)
        _wait_drained(warm_began, args.drain_timeout)
        receivers.clear()
        cpu_before = report.cpu_now(web.pid, worker.pid, env["DATABASE_URL"])
        began, ended, offered = storm(run="storm", seconds=args.seconds)
        waited, left = _wait_drained(began, args.drain_timeout)
        cpu = report.cpu_since(cpu_before, web.pid, worker.pid)
        load = os.getloadavg()
    finally:
        _common.stop(processes)
    print(f"\nPagerline paging storm (PostgreSQL + Redis, this machine; load {load[0]:.1f})")
    print(
        f"  {args.people} people x (email, Apprise, webhook), {args.services} services,"
        f" server: gunicorn {' '.join(server[2:])}; celery prefork {args.celery_processes}"
        + (" with cProfile" if args.profile else "")
    )
    figures = report.storm_report(
        began=began,
        ended=ended,
        offered=offered,
        rate=args.rate,
        drain_seconds=waited,
        left=left,
        receivers=receivers,
        cpu=cpu,
        profile_dir=var / "profile",
        profiled=args.profile,
    )
    receivers.stop()
    return 0 if figures["complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
