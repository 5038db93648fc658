"""Benchmark of the pure schedule engine (oncall.rotation), no database involved.

Answers two questions the product depends on:

* Paging needs "who is on call right now?" for every schedule at once, so ``oncall_at`` over
  1,000 four-layer schedules must stay within 100 ms.
* The schedule page renders a year at a time, so ``final_shifts`` for one year of a four-layer
  schedule with 200 overrides must stay within 50 ms.

Data is generated deterministically (``random.Random(42)``); each figure is the best of 5 runs.
Run with ``.venv/bin/python bench/schedules_pure.py``.
"""

import pathlib
import random
import sys
import time as clock
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from oncall.rotation import Layer, Override, Restriction, Rotation
from oncall.rotation.effective import final_shifts, oncall_at

ONCALL_AT_TARGET_MS = 100.0
FINAL_SHIFTS_TARGET_MS = 50.0
SCHEDULE_COUNT = 1_000
REPEATS = 5

ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Europe/London",
    "Australia/Lord_Howe",
]
ROTATIONS = [
    Rotation("hours", 8),
    Rotation("hours", 12),
    Rotation("days", 1),
    Rotation("days", 2),
    Rotation("weeks", 1),
    Rotation("weeks", 2),
]
RESTRICTION_SETS = [
    (Restriction(frozenset(range(5)), time(9), time(17)),),
    (Restriction(frozenset(range(7)), time(22), time(6)),),
    (
        Restriction(frozenset({5}), time(8), time(20)),
        Restriction(frozenset({6}), time(8), time(20)),
    ),
]
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2027, 1, 1, tzinfo=UTC)
TEAM = [f"user{number}" for number in range(12)]


def random_layer(rng: random.Random, name: str) -> Layer:
    """A layer that started some time in 2025, restricted about a third of the time."""
    handoff_start = datetime(2025, 1, 1, 9) + timedelta(hours=rng.randrange(365 * 24))
    restrictions = rng.choice(RESTRICTION_SETS) if rng.random() < 0.35 else ()
    return Layer(
        name=name,
        participants=tuple(rng.sample(TEAM, rng.randint(1, 5))),
        rotation=rng.choice(ROTATIONS),
        handoff_start=handoff_start,
        restrictions=restrictions,
    )


def random_overrides(rng: random.Random, count: int, team: list[str]) -> list[Override]:
    """Overrides of 1 hour to 3 days in 2026; a quarter only replace a specific person."""
    overrides = []
    for order in range(count):
        start = YEAR_START + timedelta(minutes=30 * rng.randrange(2 * 24 * 360))
        overrides.append(
            Override(
                user=rng.choice(team),
                start=start,
                end=start + timedelta(hours=rng.randint(1, 72)),
                replaces=rng.choice(team) if rng.random() < 0.25 else None,
                created_order=order,
            )
        )
    return overrides


def build_oncall_cases(rng: random.Random) -> list[tuple]:
    cases = []
    for number in range(SCHEDULE_COUNT):
        layers = [random_layer(rng, f"s{number}-l{index}") for index in range(4)]
        overrides = random_overrides(rng, rng.randint(0, 4), TEAM)
        at = YEAR_START + timedelta(seconds=rng.randrange(365 * 24 * 3600))
        cases.append((layers, overrides, ZoneInfo(rng.choice(ZONES)), at))
    return cases


def build_year_case(rng: random.Random) -> tuple:
    layers = [
        Layer(
            "business-hours",
            tuple(TEAM[8:11]),
            Rotation("hours", 12),
            datetime(2025, 12, 30, 9),
            restrictions=RESTRICTION_SETS[0],
        ),
        Layer("primary", tuple(TEAM[:4]), Rotation("weeks", 1), datetime(2025, 12, 29, 10)),
        Layer("secondary", tuple(TEAM[4:8]), Rotation("days", 1), datetime(2025, 12, 31, 9)),
        Layer("night", tuple(TEAM[:6]), Rotation("hours", 8), datetime(2025, 12, 30, 6)),
    ]
    return layers, random_overrides(rng, 200, TEAM), ZoneInfo("America/New_York")


def best_of(repeats: int, run) -> float:
    """Best wall time in milliseconds; the minimum is the least noisy estimate of the cost."""
    timings = []
    for _ in range(repeats):
        started = clock.perf_counter()
        run()
        timings.append((clock.perf_counter() - started) * 1000)
    return min(timings)


def main() -> int:
    rng = random.Random(42)
    oncall_cases = build_oncall_cases(rng)
    layers, overrides, zone = build_year_case(rng)

    def run_oncall_at() -> None:
        for case_layers, case_overrides, case_zone, at in oncall_cases:
            oncall_at(case_layers, case_overrides, case_zone, at)

    def run_final_shifts() -> None:
        final_shifts(layers, overrides, zone, YEAR_START, YEAR_END)

    oncall_ms = best_of(REPEATS, run_oncall_at)
    year_ms = best_of(REPEATS, run_final_shifts)
    shift_count = len(final_shifts(layers, overrides, zone, YEAR_START, YEAR_END))
    print(
        f"oncall_at x {SCHEDULE_COUNT} schedules (4 layers): "
        f"{oncall_ms:7.1f} ms (target <= {ONCALL_AT_TARGET_MS:.0f} ms)"
    )
    print(
        f"final_shifts, 1 year, 4 layers, {len(overrides)} overrides: "
        f"{year_ms:7.1f} ms (target <= {FINAL_SHIFTS_TARGET_MS:.0f} ms, {shift_count} shifts)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
