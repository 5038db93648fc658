"""Benchmark of the schedule editor's preview: POST /schedules/<id>/edit/preview with an
unsaved 4-layer schedule (restrictions, an 8-hourly follow-the-sun layer, overrides on the
saved schedule), through the whole Django stack (session, CSRF-exempt test client, parsing,
the service's checks, the rotation maths, the plotly figure, JSON).

Target: the answer in <= 150 ms at the 95th percentile (issue 15), judged on CPU time per
request, as bench/schedules.py does (on a shared machine wall time mostly measures the
neighbours); wall-clock p50/p95 are printed too.

    .venv/bin/python bench/schedule_editor.py            # 200 requests
    .venv/bin/python bench/schedule_editor.py --small    # 30 requests (CI)
    .venv/bin/python bench/schedule_editor.py --check    # exit 1 when p95 misses the target

It runs against a throwaway test database (SQLite in a temporary directory, or ``test_<name>``
on the server of ``DATABASE_URL``), never your data.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import tempfile
import time as clock
from datetime import datetime, timedelta

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_MS = 150.0
PEOPLE = [f"person{number}" for number in range(8)]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _layers_form(now: datetime) -> dict:
    """Four layers as the editor posts them: office hours, nights, follow-the-sun, backup."""
    handoff = (now - timedelta(days=10)).strftime("%Y-%m-%dT09:00")
    layers = {
        "office": ("days", "1", PEOPLE[:4], [("0 1 2 3 4", "09:00", "17:00")]),
        "nights": ("weeks", "1", PEOPLE[4:7], [("0 1 2 3 4 5 6", "17:00", "09:00")]),
        "sun": ("hours", "8", PEOPLE[1:7], []),
        "backup": ("weeks", "2", PEOPLE[6:], []),
    }
    data: dict = {"name": "Payments", "time_zone": "Europe/Berlin", "layer": list(layers)}
    for key, (unit, every, people, windows) in layers.items():
        prefix = f"layer-{key}"
        data.update(
            {
                f"{prefix}-name": key.title(),
                f"{prefix}-participant": people,
                f"{prefix}-unit": unit,
                f"{prefix}-every": every,
                f"{prefix}-handoff": handoff,
                f"{prefix}-restriction": [str(n) for n in range(len(windows))],
            }
        )
        for number, (days, start, end) in enumerate(windows):
            data[f"{prefix}-restriction-{number}-day"] = days.split()
            data[f"{prefix}-restriction-{number}-start"] = start
            data[f"{prefix}-restriction-{number}-end"] = end
    return data


def build():
    """A team of eight, its manager, and a saved 1-layer schedule with 20 upcoming overrides."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from oncall import services
    from oncall.models import Membership, Team

    now = timezone.now()
    user_model = get_user_model()
    team = Team.objects.create(slug="bench", name="Bench", time_zone="Europe/Berlin")
    people = [user_model.objects.create(username=name) for name in PEOPLE]
    manager = user_model.objects.create(username="bench-manager")
    Membership.objects.bulk_create(Membership(team=team, user=user) for user in people)
    Membership.objects.create(team=team, user=manager, role="manager")
    local = timezone.localtime(now).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    schedule = services.schedule_create(
        team=team,
        name="Payments",
        time_zone="Europe/Berlin",
        layers=[
            services.LayerSpec(
                name="Old",
                participants=tuple(people[:2]),
                unit="weeks",
                every=1,
                handoff_start=local - timedelta(days=30),
            )
        ],
    )
    for number in range(20):
        start = now + timedelta(hours=15 * number)
        services.override_create(
            schedule=schedule,
            user=people[number % 8],
            start=start,
            end=start + timedelta(hours=4),
        )
    return manager, schedule, now


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="30 requests (CI)")
    parser.add_argument("--check", action="store_true", help="exit 1 when p95 misses the target")
    args = parser.parse_args()
    requests = 30 if args.small else 200

    from schedules import _create_test_database, _setup

    with tempfile.TemporaryDirectory(prefix="pagerline-bench-") as tmp:
        _setup(tmp)
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext, setup_test_environment

        setup_test_environment()
        old_name = _create_test_database(tmp)
        try:
            manager, schedule, now = build()
            client = Client()
            client.force_login(manager)
            url = f"/schedules/{schedule.pk}/edit/preview"
            form = _layers_form(now)
            first = client.post(url, form)
            assert first.status_code == 200, first.content[:500]
            answer = first.json()
            rows = {row for trace in answer["figure"]["data"] for row in trace["y"]}
            assert {"1. Office", "2. Nights", "3. Sun", "4. Backup"} <= rows, rows
            walls, cpus = [], []
            for _ in range(requests):
                started, cpu_started = clock.perf_counter(), clock.process_time()
                response = client.post(url, form)
                walls.append((clock.perf_counter() - started) * 1000)
                cpus.append((clock.process_time() - cpu_started) * 1000)
                assert response.status_code == 200
            with CaptureQueriesContext(connection) as queries:
                client.post(url, form)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)

    p95_cpu = _percentile(cpus, 0.95)
    print(
        f"schedule editor preview, 4 layers + 20 overrides, {requests} requests "
        f"({connection.vendor}): wall p50 {statistics.median(walls):.1f} ms, "
        f"p95 {_percentile(walls, 0.95):.1f} ms; CPU p50 {statistics.median(cpus):.1f} ms, "
        f"p95 {p95_cpu:.1f} ms; {len(queries)} queries (target p95 <= {TARGET_MS:.0f} ms)"
    )
    if p95_cpu > TARGET_MS:
        print("target missed")
        return 1 if args.check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
