"""Intake benchmark: webhook acceptance and end-to-end processing on PostgreSQL + Redis.

    .venv/bin/python bench/ingest.py            # full run (~3 minutes)
    .venv/bin/python bench/ingest.py --small    # a few seconds, as CI runs it
    .venv/bin/python bench/ingest.py --accept-only --rounds 3  # the request path only
    .venv/bin/python bench/ingest.py --worker-class sync --web-workers 5  # one commit each

It creates a fresh PostgreSQL database (default pagerline_bench on 127.0.0.1), starts
gunicorn (with `make run`'s settings, config.launch.web_server_args, unless told) on this
machine, warms every web process up and drives it with wrk (Debian package `wrk`) with
realistic Alertmanager and PagerDuty bodies. It prints, in this order:

1. the request path: at concurrency 16 and 32, a bare Django view returning 202 and
   intake, each for --phase seconds, with no Celery worker running yet (deliveries wait
   for it): accepted requests/s, p50/p99 latency and intake's ratio to the bare view;
2. a Celery worker (prefork, --celery-processes) started on that backlog: how fast it
   applies it, alone on the machine;
3. a sustained storm at c=32 for --sustain seconds with the worker applying alongside:
   accepted requests/s and latency (and the ratio to the c=32 bare view of step 1), and
   the alerts/s end to end until every delivery of the phase is applied;
4. a loss check: 2xx answers vs stored, processed and failed deliveries.

On a busy machine compare the ratios of a round, and repeat (--rounds).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import _common

WRK_SCRIPTS = ("wrk_bare.lua", "wrk_alerts.lua")  # the bare 202 view, then intake


def _row(label: str, result: dict) -> str:
    return (
        f"  {label:<18} {result['rps']:8.0f} req/s  p50 {result['p50_ms']:6.2f} ms"
        f"  p99 {result['p99_ms']:6.2f} ms"
    )


def _policy(team):
    """An escalation policy as most teams have one: page the on-call responder at once,
    then a second responder after 5 minutes. Neither has a contact method, so a page is
    recorded on the timeline and sends nothing over the network."""
    from django.contrib.auth import get_user_model

    from incidents.models import EscalationPolicy, EscalationStep, EscalationTarget

    users = [get_user_model().objects.create(username=f"responder-{n}") for n in (1, 2)]
    policy = EscalationPolicy.objects.create(team=team, name="Bench")
    for position, (delay, user) in enumerate([(0, users[0]), (300, users[1])]):
        step = EscalationStep.objects.create(policy=policy, position=position, delay_seconds=delay)
        EscalationTarget.objects.create(step=step, user=user)
    return policy


def _versus(intake: dict, bare: dict) -> str:
    ratio = intake["rps"] / bare["rps"] if bare["rps"] else 0
    return (
        f"  = {ratio:.2f}x bare  (non-2xx {intake['non_2xx']},"
        f" socket errors {intake['socket_errors']})"
    )


def _alerts(connection, where: str, params, detail: bool = False):
    """How many alerts the deliveries matching `where` carried (with detail: and how many
    deliveries, the first receive, the last and the first processing)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(CASE WHEN body::jsonb ? 'alerts' "
            "THEN jsonb_array_length(body::jsonb->'alerts') ELSE 1 END), 0), "
            "COUNT(*), MIN(received_at), MAX(processed_at), MIN(processed_at) "
            "FROM incidents_alertdelivery "
            f"WHERE {where}",
            list(params),
        )
        row = cursor.fetchone()
    return row if detail else row[0]


def _wait_drained(model, timeout: float) -> float:
    """Wait until no delivery is pending or being processed; returns the seconds waited."""
    started = time.monotonic()
    while model.objects.filter(status__in=["pending", "processing"]).exists():
        if time.monotonic() - started > timeout:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="a few seconds per phase (CI)")
    parser.add_argument(
        "--sustain", type=int, default=60, help="seconds of the storm with the worker running"
    )
    parser.add_argument(
        "--web-workers", type=int, default=0, help="gunicorn processes (default: as make run)"
    )
    parser.add_argument("--worker-class", help="gunicorn worker class (default: as make run)")
    parser.add_argument("--threads", type=int, help="gunicorn threads per process (gthread)")
    parser.add_argument("--celery-processes", type=int, default=2)
    parser.add_argument(
        "--celery-nice", type=int, default=0, help="run the Celery worker at this nice level"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--phase", type=int, help="seconds of each wrk phase (default 10)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat the bare/intake pairs (noisy machines)"
    )
    parser.add_argument(
        "--accept-only",
        action="store_true",
        help="only the request path (step 1): no worker (the loss check counts stored rows)",
    )
    parser.add_argument(
        "--policy",
        action="store_true",
        help="give the service an escalation policy whose first step pages at once",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench/ingest.py needs wrk: apt-get install wrk")

    phase = args.phase or (2 if args.small else 10)
    base = f"http://127.0.0.1:{args.port}"
    sustain = 3 if args.small else args.sustain
    env = _common.stack_env(database="pagerline_bench", redis_db=14, var="/tmp/pagerline-bench")
    var = Path(env["PAGERLINE_VAR_DIR"])
    _common.fresh_stack(env)
    from django.db import connection

    from incidents.catalog import changes
    from incidents.models import AlertDelivery, Incident, Service
    from oncall.models import Team

    team = Team.objects.create(slug="bench", name="Bench")
    service = Service.objects.create(team=team, slug="checkout", name="Checkout")
    if args.policy:
        service.escalation_policy = _policy(team)
        service.save(update_fields=["escalation_policy"])
    _, am_token = changes.integration_create(service=service, source="alertmanager")
    _, pd_token = changes.integration_create(service=service, source="pagerduty")
    connection.close()
    env.update(PAGERLINE_AM_TOKEN=am_token, PAGERLINE_PD_TOKEN=pd_token)

    # The same server settings for the bare view and intake: make run's, unless told.
    server = _common.web_server(
        port=args.port,
        workers=args.web_workers,
        worker_class=args.worker_class,
        threads=args.threads,
    )
    processes = [_common.start(_common.web_command(server), env, var / "web.log")]
    celery_command = _common.celery_command(processes=args.celery_processes, nice=args.celery_nice)
    try:
        _common.wait_http(f"{base}/healthz")
        # Warm every web process up first: /healthz answering means one process is up, not
        # all, and each process's first requests pay for lazy imports and connections.
        warm_up = [
            _common.wrk(script, base, 32, 2 if args.small else 5, env) for script in WRK_SCRIPTS
        ]
        # The request path: web, PostgreSQL and Redis, the worker not started yet (deliveries
        # wait for it, as they would for a worker being restarted). Bare view and intake
        # then have the machine to themselves alike.
        rounds = []
        for _ in range(args.rounds):
            results = {}
            for concurrency in (16, 32):
                for kind, script in zip(("bare", "intake"), WRK_SCRIPTS, strict=True):
                    run = _common.wrk(script, base, concurrency, phase, env)
                    results[(kind, concurrency)] = run
            rounds.append(results)
        intakes = [r for results in rounds for (kind, _), r in results.items() if kind == "intake"]
        intakes.append(warm_up[1])
        backlog = AlertDelivery.objects.order_by("-id").values_list("id", flat=True).first() or 0
        catch_up = sustained_run = None
        if not args.accept_only:
            # Start the worker on the backlog: how fast it catches up, alone on the machine.
            started = time.monotonic()
            processes.append(_common.start(celery_command, env, var / "worker.log"))
            _wait_drained(AlertDelivery, 600)
            catch_up = (backlog, time.monotonic() - started)
            # Then web and worker at once: a sustained storm applied as it arrives.
            began = datetime.now(UTC)
            sustained_run = _common.wrk(WRK_SCRIPTS[1], base, 32, sustain, env)
            sustained = (began, datetime.now(UTC))
            intakes.append(sustained_run)

        accepted = sum(r["requests"] - r["non_2xx"] for r in intakes)
        rejected = sum(r["non_2xx"] for r in intakes)
        deadline = time.monotonic() + (0 if args.accept_only else 300)
        while AlertDelivery.objects.exclude(status="processed").exclude(status="failed").exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        stored = AlertDelivery.objects.count()
        processed = AlertDelivery.objects.filter(status="processed").count()
        failed = AlertDelivery.objects.filter(status="failed").count()
        print("\nPagerline intake benchmark (PostgreSQL + Redis, this machine)")
        celery = "none" if args.accept_only else f"prefork {args.celery_processes}"
        celery += f" (nice {args.celery_nice})" if args.celery_nice and not args.accept_only else ""
        print(f"  server: gunicorn {' '.join(server[2:])}; celery {celery}")
        if args.policy:
            print("  the service has an escalation policy: every new incident pages at once")
        print(
            f"  warm-up (not in the figures): {warm_up[0]['requests']} bare and"
            f" {warm_up[1]['requests']} intake requests at c=32"
        )
        print("  request path (worker not started yet; deliveries wait for it):")
        for number, results in enumerate(rounds, 1):
            if args.rounds > 1:
                print(f"  round {number}:")
            for concurrency in (16, 32):
                bare, intake = results[("bare", concurrency)], results[("intake", concurrency)]
                print(_row(f"c={concurrency} bare view", bare))
                print(_row(f"c={concurrency} intake", intake) + _versus(intake, bare))
        if args.accept_only:
            print(f"  accept only: {accepted} accepted (2xx), {rejected} refused, {stored} stored")
            return 1 if stored < accepted else 0
        backlog_alerts, backlog_deliveries, _, last, first = _alerts(
            connection, "id <= %s", [catch_up[0]], detail=True
        )
        applying = (last - first).total_seconds() if last and first else 0
        print(
            f"  worker started on the backlog: {backlog_alerts} alerts in {backlog_deliveries}"
            " deliveries,"
            f" the first applied {catch_up[1] - applying:.1f} s after the start, the last"
            f" {applying:.1f} s later: {backlog_alerts / applying if applying else 0:.0f} alerts/s"
        )
        print(f"  sustained {sustain} s at c=32, the worker applying alongside:")
        print(_row("c=32 intake", sustained_run) + _versus(sustained_run, rounds[-1][("bare", 32)]))
        s_alerts, s_deliveries, s_first, s_last, _ = _alerts(
            connection, "received_at >= %s AND received_at < %s", sustained, detail=True
        )
        if s_deliveries and s_last:
            offered = (sustained[1] - sustained[0]).total_seconds()
            span = (s_last - s_first).total_seconds()
            print(
                f"  end to end: {s_alerts} alerts in {s_deliveries} deliveries offered"
                f" over {offered:.1f} s ({s_alerts / offered:.0f} alerts/s); the last applied"
                f" {span - offered:.1f} s after the phase ended: {s_alerts / span:.0f} alerts/s"
                " end to end"
            )
        print(f"  incidents: {Incident.objects.count()}")
        lost = max(0, accepted - processed - failed)
        print(
            f"  loss check: {accepted} accepted (2xx), {rejected} refused, {stored} stored, "
            f"{processed} processed, {failed} failed, lost {lost}"
        )
        return 1 if lost or failed or stored < accepted else 0
    finally:
        _common.stop(processes)


if __name__ == "__main__":
    sys.exit(main())
