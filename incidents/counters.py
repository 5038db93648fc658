"""Monotonic counters for /metrics, kept in PostgreSQL (incidents.CounterTotal) so that they
survive retention, restarts and Redis, and read the same from every web process.

Writers add in the same transaction as the change they count (a delivery marked processed, a
notification marked failed), so a rolled-back or retried batch counts nothing and a change
is counted exactly once. Each call adds to one random shard of each counter, with one
statement, rows in a fixed order (no deadlock between writers), and should be the last
statement of its transaction: the shard rows stay locked until the commit.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping

from django.db import connection
from django.db.models import Sum

from incidents.models import CounterTotal

SHARDS = 16

DELIVERIES_RECEIVED = "alert_deliveries_received"  # label: source
DELIVERIES_FAILED = "alert_deliveries_failed"  # label: source
INGEST_LATENCY_BUCKET = "ingest_latency_bucket"  # label: the bound; cumulative (le)
INGEST_LATENCY_COUNT = "ingest_latency_count"
INGEST_LATENCY_SUM_US = "ingest_latency_sum_us"  # microseconds, so that it stays an integer
NOTIFICATION_FAILURES = "notification_failures"  # label: channel

# Upper bounds (seconds) of the ingest latency histogram's buckets.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def bucket_label(bound: float) -> str:
    return repr(float(bound))


def latency_increments(latencies: Iterable[float]) -> Counter[tuple[str, str]]:
    """What a set of ingest latencies (seconds) adds to the histogram's counters (pure)."""
    increments: Counter[tuple[str, str]] = Counter()
    for latency in latencies:
        latency = max(0.0, latency)
        for bound in LATENCY_BUCKETS:
            if latency <= bound:
                increments[(INGEST_LATENCY_BUCKET, bucket_label(bound))] += 1
        increments[(INGEST_LATENCY_COUNT, "")] += 1
        increments[(INGEST_LATENCY_SUM_US, "")] += round(latency * 1_000_000)
    return increments


def counters_add(*, increments: Mapping[tuple[str, str], int]) -> None:
    """Add to counters (keys: (name, label)) in the caller's transaction."""
    rows = sorted((key, n) for key, n in increments.items() if n)
    if not rows:
        return
    shard = random.randrange(SHARDS)
    table = connection.ops.quote_name(CounterTotal._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params = [p for (name, label), n in rows for p in (name, label, shard, int(n))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, label, shard, value) VALUES {values} "  # noqa: S608
            "ON CONFLICT (name, label, shard) DO UPDATE "
            f"SET value = {table}.value + excluded.value",
            params,
        )


def counters_read() -> dict[tuple[str, str], int]:
    """Every counter's total (the sum of its shards): one query over a small table."""
    rows = CounterTotal.objects.values_list("name", "label").order_by().annotate(total=Sum("value"))
    return {(name, label): int(total) for name, label, total in rows}
