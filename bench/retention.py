"""Retention benchmark: purging expired deliveries while a storm runs through real intake.

    .venv/bin/python bench/retention.py              # 5,000,000 expired deliveries, 1,000 alerts/s
    .venv/bin/python bench/retention.py --small      # seconds, as CI runs it
    .venv/bin/python bench/retention.py --rows 1000000 --phase 30

It creates a fresh PostgreSQL database (default pagerline_bench_retention on 127.0.0.1),
fills it with --rows processed deliveries received 40 days ago (INSERT ... SELECT
generate_series: bodies as long as the storm's), and prints:

1. storage per million deliveries: the table, its indexes and TOAST (pg_total_relation_size),
   measured on the filled rows after VACUUM ANALYZE;
2. intake under a paced storm (bench/wrk_storm.lua: --rate new alerts/s, one alert per
   webhook, each opening an incident) through gunicorn with `make run`'s settings and a
   Celery worker applying alongside, --phase seconds per run, A/B interleaved over
   --rounds rounds (A B, B A, A B, ...): A the storm alone, B the storm while the retention
   purge (incidents.intake.retention.deliveries_purge, the beat task's service) runs with
   the phase as its time budget. Per round intake p99 A and B, rows purged; then the median
   p99 of each and their ratio (the goal: B within 1.5x of A);
3. the rest of the purge, without a storm, until every expired delivery is gone, and a
   check that the storm's incidents, alerts and timelines were left alone;
4. storage per million alerts of what retention keeps (incidents, alerts, timeline events).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import _common

KEPT_TABLES = ("incidents_incident", "incidents_alert", "incidents_incidentevent")


def _fill(connection, integration_id: int, rows: int) -> float:
    """Insert `rows` processed deliveries received 40 days ago; the seconds it took."""
    # As long as a storm body (bench/wrk_storm.lua): one firing Alertmanager alert.
    body = (
        '{"version":"4","groupKey":"{}:{alertname=\\"InstanceDown\\",k=\\"old-%s\\"}",'
        '"truncatedAlerts":0,"status":"firing","receiver":"pagerline",'
        '"groupLabels":{"alertname":"InstanceDown"},"commonLabels":{"job":"svc-1"},'
        '"commonAnnotations":{},"externalURL":"http://alertmanager:9093","alerts":['
        '{"status":"firing","labels":{"alertname":"InstanceDown","instance":"host-%s:9100",'
        '"job":"svc-1","severity":"critical"},"annotations":{"summary":"host-%s is down",'
        '"description":"No scrape for 1 minute."},"startsAt":"2026-11-26T10:00:00.000Z",'
        '"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph",'
        '"fingerprint":"old-%s"}]}'
    )
    started = time.monotonic()
    step = 1_000_000  # one statement per million: the WAL and memory stay bounded
    with connection.cursor() as cursor:
        for first in range(1, rows + 1, step):
            last = min(rows, first + step - 1)
            cursor.execute(
                "INSERT INTO incidents_alertdelivery (integration_id, received_at, body, status,"
                " attempts, claim_token, claimed_at, processed_at, error, note) "
                "SELECT %s, now() - interval '40 days' + g * interval '1 millisecond',"
                " format(%s, g, g, g, g), 'processed', 1, '', NULL,"
                " now() - interval '40 days' + g * interval '1 millisecond', '', '' "
                "FROM generate_series(%s, %s) AS g",
                [integration_id, body, first, last],
            )
    return time.monotonic() - started


def _sizes(connection, tables) -> dict[str, tuple[int, int, int]]:
    """{table: (heap + TOAST, indexes, total) bytes}."""
    found = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT pg_table_size(%s), pg_indexes_size(%s), pg_total_relation_size(%s)",
                [table, table, table],
            )
            found[table] = cursor.fetchone()
    return found


def _mb(n: float) -> str:
    return f"{n / 1e6:8.1f} MB"


def _storm(base: str, env: dict, *, run: str, rate: int, seconds: int) -> dict:
    storm_env = {
        **env,
        "PAGERLINE_STORM_RUN": run,
        "PAGERLINE_STORM_RATE": str(rate),
        "PAGERLINE_STORM_THREADS": "2",
    }
    return _common.wrk("wrk_storm.lua", base, 32, seconds, storm_env, threads=2)


def _drained(timeout: float) -> float:
    from incidents.models import AlertDelivery

    started = time.monotonic()
    while AlertDelivery.objects.filter(status__in=["pending", "processing"]).exists():
        if time.monotonic() - started > timeout:
            break
        time.sleep(0.5)
    return time.monotonic() - started


class _Purge(threading.Thread):
    """The retention purge, in its own thread and database connection, for `seconds`."""

    def __init__(self, seconds: float, batch: int, pause: float):
        super().__init__(daemon=True)
        self.seconds, self.batch, self.pause, self.result = seconds, batch, pause, None

    def run(self):
        from django.db import connection

        from incidents.intake import retention

        try:
            self.result = retention.deliveries_purge(
                days=30, batch_size=self.batch, max_seconds=self.seconds, pause=self.pause
            )
        finally:
            connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="a few seconds (CI)")
    parser.add_argument("--rows", type=int, help="expired deliveries (default 5,000,000)")
    parser.add_argument("--rate", type=int, help="storm: new alerts/s (default 1,000)")
    parser.add_argument("--phase", type=int, help="seconds of each storm (default 60)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=5000, help="rows per DELETE")
    parser.add_argument(
        "--pause", type=float, default=1.0, help="the purge rests this times each batch's time"
    )
    parser.add_argument("--celery-processes", type=int, default=2)
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench/retention.py needs wrk: apt-get install wrk")
    rows = args.rows or (20_000 if args.small else 5_000_000)
    rate = args.rate or (100 if args.small else 1000)
    phase = args.phase or (2 if args.small else 60)
    base = f"http://127.0.0.1:{args.port}"

    env = _common.stack_env(
        database="pagerline_bench_retention", redis_db=12, var="/tmp/pagerline-bench-retention"
    )
    var = Path(env["PAGERLINE_VAR_DIR"])
    _common.fresh_stack(env)
    from django.db import connection
    from django.utils import timezone

    from incidents.catalog import changes
    from incidents.models import Alert, AlertDelivery, Incident, IncidentEvent, Service
    from oncall.models import Team

    team = Team.objects.create(slug="bench", name="Bench")
    service = Service.objects.create(team=team, slug="checkout", name="Checkout")
    integration, token = changes.integration_create(service=service, source="alertmanager")
    env["PAGERLINE_STORM_TOKENS"] = token

    print(f"\nPagerline retention benchmark (PostgreSQL + Redis, this machine), {rows:,} rows")
    filled = _fill(connection, integration.pk, rows)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE incidents_alertdelivery")
    table, indexes, total = _sizes(connection, ["incidents_alertdelivery"])[
        "incidents_alertdelivery"
    ]
    per = 1e6 / rows
    print(f"  filled {rows:,} expired deliveries in {filled:.1f} s")
    print("  storage per million deliveries (one alert each, ~700-byte body):")
    print(f"    table + TOAST {_mb(table * per)}  indexes {_mb(indexes * per)}", end="")
    print(f"  total {_mb(total * per)}")
    connection.close()

    server = _common.web_server(port=args.port)
    processes = [_common.start(_common.web_command(server), env, var / "web.log")]
    celery = _common.celery_command(processes=args.celery_processes)
    processes.append(_common.start(celery, env, var / "worker.log"))
    try:
        _common.wait_http(f"{base}/healthz")
        _storm(base, env, run="warm", rate=rate, seconds=2 if args.small else 5)
        _drained(120)
        rounds = []
        for number in range(args.rounds):
            order = ("A", "B") if number % 2 == 0 else ("B", "A")
            found = {}
            for kind in order:
                purge = _Purge(phase, args.batch, args.pause) if kind == "B" else None
                if purge:
                    purge.start()
                found[kind] = _storm(base, env, run=f"r{number}{kind}", rate=rate, seconds=phase)
                if purge:
                    purge.join()
                    found["purged"] = purge.result
                # Each storm starts from an applied backlog, like the other of its pair.
                found[kind + "_drain"] = _drained(300)
            rounds.append(found)
        print(
            f"  storm: {rate} alerts/s offered (one per webhook, each a new incident),"
            f" c=32, {phase} s per phase; server: gunicorn {' '.join(server[2:])};"
            f" celery prefork {args.celery_processes} applying alongside;"
            f" purge: {args.batch} rows per batch, pause {args.pause}x"
        )
        print("  A = storm alone, B = storm while the purge runs (A/B interleaved):")
        for number, found in enumerate(rounds, 1):
            a, b, purged = found["A"], found["B"], found["purged"]
            print(
                f"    round {number}: A p99 {a['p99_ms']:7.2f} ms ({a['rps']:6.0f} req/s,"
                f" non-2xx {a['non_2xx']})  B p99 {b['p99_ms']:7.2f} ms ({b['rps']:6.0f} req/s,"
                f" non-2xx {b['non_2xx']})  purged {purged.deleted:,} rows in"
                f" {purged.batches} batches ({purged.deleted / phase:,.0f} rows/s)"
            )
        a_p99 = statistics.median(found["A"]["p99_ms"] for found in rounds)
        b_p99 = statistics.median(found["B"]["p99_ms"] for found in rounds)
        ratio = b_p99 / a_p99 if a_p99 else 0
        print(
            f"  median intake p99: A {a_p99:.2f} ms, B {b_p99:.2f} ms:"
            f" {ratio:.2f}x (goal: within 1.5x)"
        )
        counts = (Incident.objects.count(), Alert.objects.count(), IncidentEvent.objects.count())
        started = time.monotonic()
        rest = _Purge(3600, args.batch, 0.0)
        rest.start()
        rest.join()
        cutoff = timezone.now() - timedelta(days=30)
        left = AlertDelivery.objects.filter(received_at__lt=cutoff).count()
        print(
            f"  the rest of the purge, no storm: {rest.result.deleted:,} rows in"
            f" {time.monotonic() - started:.1f} s; expired rows left: {left}"
        )
        after = (Incident.objects.count(), Alert.objects.count(), IncidentEvent.objects.count())
        print(
            f"  kept: {after[0]:,} incidents, {after[1]:,} alerts, {after[2]:,} timeline events"
            f" ({'unchanged' if after == counts else f'CHANGED from {counts}'})"
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        kept = _sizes(connection, KEPT_TABLES)
        alerts = after[1] or 1
        print("  what retention keeps, per million alerts (each opened its own incident):")
        for name, (heap, index, whole) in kept.items():
            print(
                f"    {name:<24} table {_mb(heap * 1e6 / alerts)}  indexes"
                f" {_mb(index * 1e6 / alerts)}  total {_mb(whole * 1e6 / alerts)}"
            )
        total_kept = sum(whole for _, _, whole in kept.values())
        print(f"    together {_mb(total_kept * 1e6 / alerts)}")
        errors = sum(f[k]["non_2xx"] + f[k]["socket_errors"] for f in rounds for k in "AB")
        return 1 if left or after != counts or errors else 0
    finally:
        _common.stop(processes)


if __name__ == "__main__":
    sys.exit(main())
