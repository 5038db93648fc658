"""MTTD / MTTA / MTTR computed in the database, exactly, on PostgreSQL and SQLite.

One query per call, whatever the number of incidents: incidents are never loaded into
Python to be measured. Week (or any other) ranges are computed in Python with zoneinfo
(metrics.weeks) and joined in as a VALUES list, so DST is never the database's business.

Exactness, and the same figures on both engines:

* every duration is first an exact integer of microseconds (PostgreSQL: numeric EXTRACT of
  the epoch; SQLite: whole seconds from strftime plus the six microsecond digits Django
  stores), so COUNT, SUM and MAX are exact and the mean is one division in Python;
* percentiles are over seconds as doubles (microseconds / 1e6). PostgreSQL uses
  ``percentile_cont``; SQLite ranks rows with window functions and interpolates between
  the two ranks with percentile_cont's own formula. Both give the same double.

The SQL is split by vendor only where it must be (duration arithmetic, percentiles).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection

from incidents.models import Incident, IncidentStatus
from metrics.stats import PERCENTILES, Summary, seconds, summary_from_parts

METRICS = ("mttd", "mtta", "mttr")


@dataclass(frozen=True)
class MetricParts:
    """What the database returns for one metric: exact integers and two percentiles."""

    count: int
    total_us: int | None
    max_us: int | None
    p50: float | None
    p90: float | None

    def summary(self) -> Summary:
        return summary_from_parts(
            count=self.count, total_us=self.total_us, max_us=self.max_us, p50=self.p50, p90=self.p90
        )


@dataclass(frozen=True)
class Aggregate:
    service_id: int | None
    label: str
    incidents: int
    open: int
    unacknowledged: int
    mttd: MetricParts
    mtta: MetricParts
    mttr: MetricParts


# --- vendor-specific fragments ------------------------------------------------------------


def duration_us(vendor: str, end: str, start: str) -> str:
    """SQL for `end - start` in whole microseconds (an exact integer)."""
    if vendor == "postgresql":
        # date_part is float8 (EXTRACT is numeric, ~10x slower over a million rows). The
        # interval is whole days plus microseconds below a day, so the double is within a
        # fraction of a microsecond of the exact value for any duration under 68 years, and
        # rounding gives the exact integer back.
        return f"round(date_part('epoch', {end} - {start}) * 1000000)::bigint"
    # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC. Whole seconds come from the first
    # 19 characters (strftime would round milliseconds into the next second), microseconds
    # from the digits after the dot ('' casts to 0).
    return (
        f"((CAST(strftime('%%s', substr({end}, 1, 19)) AS INTEGER)"
        f" - CAST(strftime('%%s', substr({start}, 1, 19)) AS INTEGER)) * 1000000"
        f" + CAST(substr({end}, 21) AS INTEGER) - CAST(substr({start}, 21) AS INTEGER))"
    )


def _seconds(column: str) -> str:
    return f"(CAST({column} AS DOUBLE PRECISION) / CAST(1000000 AS DOUBLE PRECISION))"


def _fraction(ratio: tuple[int, int]) -> str:
    # One correctly rounded division gives the same double as Python's 0.9, on any engine.
    return f"(CAST({ratio[0]} AS DOUBLE PRECISION) / CAST({ratio[1]} AS DOUBLE PRECISION))"


def engine() -> str:
    if connection.vendor not in {"postgresql", "sqlite"}:
        raise NotImplementedError(
            f"MTTx SQL supports PostgreSQL and SQLite, not {connection.vendor}"
        )
    return connection.vendor


# --- the shared part: one row per incident with its three durations -----------------------


def _durations_ctes(vendor: str, *, label: str, joins: str, where: str, drills: bool | None) -> str:
    """`drills`: False keeps production incidents only, True drill incidents only, None
    both. Production figures need no drill tables beyond an anti-join."""
    from metrics.models import DrillIncident, DrillService

    quote = connection.ops.quote_name
    incident = quote(Incident._meta.db_table)
    drill_incident = quote(DrillIncident._meta.db_table)
    drill_service = quote(DrillService._meta.db_table)
    resolved = IncidentStatus.RESOLVED.value

    def duration(end: str, start: str) -> str:
        return duration_us(vendor, end, start)

    if drills is False:
        start, drill_id = "i.impact_started_at", "NULL"
        anti_join = f"SELECT 1 FROM {drill_incident} di WHERE di.incident_id = i.id"  # noqa: S608
        where += f" AND NOT EXISTS ({anti_join})"
    else:
        # A drill incident's impact starts at its service's fault injection.
        start, drill_id = "COALESCE(ds.injected_at, i.impact_started_at)", "di.drill_id"
        joins += (
            f" {'JOIN' if drills else 'LEFT JOIN'} {drill_incident} di ON di.incident_id = i.id"
            f" LEFT JOIN {drill_service} ds"
            " ON ds.drill_id = di.drill_id AND ds.service_id = di.service_id"
        )
    # PostgreSQL would otherwise inline this CTE and evaluate each duration once per
    # aggregate that reads it (five times per metric); OFFSET 0 computes them once per row.
    fence = "OFFSET 0" if vendor == "postgresql" else ""
    # No impact start is later than detection: a correction after it means an MTTD of zero,
    # not a negative one.
    return f"""
base AS (
  SELECT i.id AS incident_id, i.service_id, {label} AS label, i.status, i.detected_at,
         i.acknowledged_at, i.resolved_at,
         CASE WHEN {start} > i.detected_at THEN i.detected_at ELSE {start} END AS impact_at,
         {drill_id} AS drill_id
  FROM {incident} i
  {joins}
  WHERE {where}
),
durations AS (
  SELECT incident_id, service_id, label, drill_id, impact_at, detected_at, acknowledged_at,
         resolved_at,
         CASE WHEN status = '{resolved}' THEN 0 ELSE 1 END AS is_open,
         CASE WHEN acknowledged_at IS NULL THEN 1 ELSE 0 END AS is_unacked,
         {duration("detected_at", "impact_at")} AS mttd_us,
         CASE WHEN acknowledged_at IS NOT NULL
              THEN {duration("acknowledged_at", "detected_at")} END AS mtta_us,
         CASE WHEN status = '{resolved}' AND resolved_at IS NOT NULL
              THEN {duration("resolved_at", "impact_at")} END AS mttr_us
  FROM base
  WHERE label IS NOT NULL {fence}
)"""  # noqa: S608 - built from constants; values are parameters, ids are int()-checked


def _where(*, service_ids: Sequence[int] | None) -> tuple[str, list]:
    # Every status, spelled out, lets PostgreSQL range-scan the (status, detected_at) index
    # for the overall span instead of reading the whole table.
    statuses = list(IncidentStatus.values)
    clauses = [
        f"i.status IN ({', '.join(['%s'] * len(statuses))})",
        "i.detected_at >= %s AND i.detected_at < %s",
    ]
    if service_ids is not None:
        clauses.append(f"i.service_id IN ({', '.join(str(int(s)) for s in service_ids)})")
    return " AND ".join(clauses), statuses


# --- aggregation --------------------------------------------------------------------------


def _postgresql_aggregate(keys: str) -> str:
    columns = []
    for metric in METRICS:
        value = f"{metric}_us"
        columns += [f"COUNT({value})", f"SUM({value})", f"MAX({value})"]
        columns += [
            f"percentile_cont({_fraction(ratio)}) WITHIN GROUP (ORDER BY {_seconds(value)})"
            for ratio in PERCENTILES.values()
        ]
    return f"""
SELECT {keys}, COUNT(*), SUM(is_open), SUM(is_unacked), {", ".join(columns)}
FROM durations GROUP BY {keys}"""  # noqa: S608 - constants only


def _sqlite_aggregate(keys: str) -> str:
    """percentile_cont by hand: rank each metric's non-null values within the group, pick
    the values at floor(f * (n - 1)) and the next rank, interpolate like PostgreSQL."""
    windows, grouped, final = [], [], []
    for metric in METRICS:
        value, rank, n = f"{metric}_us", f"{metric}_rn", f"{metric}_n"
        windows += [
            f"ROW_NUMBER() OVER (PARTITION BY {keys}, {value} IS NULL ORDER BY {value}) - 1"
            f" AS {rank}",
            f"COUNT({value}) OVER (PARTITION BY {keys}) AS {n}",
        ]
        grouped += [
            f"COUNT({value}) AS {metric}_count",
            f"SUM({value}) AS {metric}_sum",
            f"MAX({value}) AS {metric}_max",
            f"MAX({n}) AS {n}",
        ]
        final += [f"{metric}_count", f"{metric}_sum", f"{metric}_max"]
        for name, ratio in PERCENTILES.items():
            position = f"({_fraction(ratio)} * ({n} - 1))"
            first = f"CAST({position} AS INTEGER)"
            second = f"({first} + ({position} > {first}))"
            pick = f"WHEN {value} IS NOT NULL AND {rank} = {{}} THEN {_seconds(value)}"
            lo, hi = f"{metric}_{name}_lo", f"{metric}_{name}_hi"
            grouped += [
                f"MAX(CASE {pick.format(first)} END) AS {lo}",
                f"MAX(CASE {pick.format(second)} END) AS {hi}",
            ]
            final.append(f"{lo} + ({hi} - {lo}) * ({position} - {first})")
    return f"""
, ranked AS (SELECT durations.*, {", ".join(windows)} FROM durations)
, grouped AS (
  SELECT {keys}, COUNT(*) AS incidents, SUM(is_open) AS open_count,
         SUM(is_unacked) AS unacked_count, {", ".join(grouped)}
  FROM ranked GROUP BY {keys})
SELECT {keys}, incidents, open_count, unacked_count, {", ".join(final)} FROM grouped"""  # noqa: S608


def _db_value(value: datetime) -> object:
    return connection.ops.adapt_datetimefield_value(value)


def aggregate(
    *,
    ranges: Sequence[tuple[str, datetime, datetime]],
    service_ids: Sequence[int] | None,
    drills: bool,
    per_service: bool = True,
) -> list[Aggregate]:
    """Counts and exact MTTx of incidents detected in each (label, start, end) range, per
    service (or over all of them with per_service=False). Groups without incidents are
    absent. service_ids=None means every service."""
    if not ranges or (service_ids is not None and not service_ids):
        return []
    vendor = engine()
    where, statuses = _where(service_ids=service_ids)
    span = [_db_value(min(r[1] for r in ranges)), _db_value(max(r[2] for r in ranges))]
    names = [name for name, _, _ in ranges]
    if vendor == "postgresql":
        # One pass: width_bucket finds each incident's range by binary search over the
        # sorted bounds (a join would compare every incident with every range), and the
        # groups are keyed by the range's index, an integer.
        indexes, bounds = buckets(ranges)
        prefix = "WITH "
        label = "(%s::int[])[width_bucket(i.detected_at, %s::timestamptz[])]"
        joins, label_params = "", [indexes, bounds]
    else:
        values = ", ".join(["(%s, %s, %s)"] * len(ranges))
        prefix = f"WITH ranges(label, starts, ends) AS (VALUES {values}), "
        label = "r.label"
        joins = "JOIN ranges r ON i.detected_at >= r.starts AND i.detected_at < r.ends"
        label_params = [
            p for index, (_, start, end) in enumerate(ranges)
            for p in (index, _db_value(start), _db_value(end))
        ]  # fmt: skip
    keys = "service_id, label" if per_service else "label"
    body = _postgresql_aggregate(keys) if vendor == "postgresql" else _sqlite_aggregate(keys)
    ctes = _durations_ctes(vendor, label=label, joins=joins, where=where, drills=drills)
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix}{ctes} {body}", [*label_params, *statuses, *span])
        rows = cursor.fetchall()
    return [_aggregate_from_row(row, per_service=per_service, names=names) for row in rows]


def buckets(
    ranges: Sequence[tuple[str, datetime, datetime]],
) -> tuple[list[int | None], list[datetime]]:
    """(indexes, bounds) for width_bucket: bounds sorted ascending; indexes[k] is the
    position in `ranges` of the range from bounds[k] to bounds[k + 1], None for a gap and
    after the last one."""
    ordered = sorted(ranges, key=lambda r: r[1])
    for before, after in itertools.pairwise(ordered):
        if after[1] < before[2]:
            raise ValueError(f"ranges {before[0]} and {after[0]} overlap")
    bounds = sorted({r[1] for r in ranges} | {r[2] for r in ranges})
    by_bounds = {(start, end): index for index, (_, start, end) in enumerate(ranges)}
    indexes = [by_bounds.get(pair) for pair in itertools.pairwise(bounds)]
    return [*indexes, None], bounds


def _aggregate_from_row(row: Sequence, *, per_service: bool, names: list[str]) -> Aggregate:
    if per_service:
        service_id, index, *rest = row
    else:
        service_id, (index, *rest) = None, row
    label = names[int(index)]
    incidents, open_count, unacked, *metric_values = rest
    parts = {}
    for index, metric in enumerate(METRICS):
        count, total, maximum, p50, p90 = metric_values[index * 5 : index * 5 + 5]
        parts[metric] = MetricParts(
            count=int(count),
            total_us=None if total is None else int(total),
            max_us=None if maximum is None else int(maximum),
            p50=None if p50 is None else float(p50),
            p90=None if p90 is None else float(p90),
        )
    return Aggregate(
        service_id=service_id,
        label=label,
        incidents=int(incidents),
        open=int(open_count),
        unacknowledged=int(unacked),
        **parts,
    )


# --- per incident -------------------------------------------------------------------------


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_us(vendor: str, column: str) -> str:
    """SQL for an instant as exact microseconds since 1970 (integers load much faster than
    timestamps through Django's timestamptz loader)."""
    if vendor == "postgresql":
        return f"(EXTRACT(EPOCH FROM {column}) * 1000000)::bigint"
    return duration_us(vendor, column, "'1970-01-01 00:00:00'")


def _instant(epoch_us: int | None) -> datetime | None:
    return None if epoch_us is None else _EPOCH + timedelta(microseconds=int(epoch_us))


def service_durations(
    *, service_id: int, start: datetime, end: datetime, limit: int
) -> list[tuple[float | None, float | None, float | None]]:
    """(MTTD, MTTA, MTTR) in seconds of the service's production incidents detected in
    [start, end], newest first, at most `limit`: one range scan (the service page's
    distributions; listing the ids first and passing them back cost a second query and a
    plan over thousands of literals)."""
    vendor = engine()
    where = "i.service_id = %s AND i.detected_at >= %s AND i.detected_at <= %s"
    ctes = _durations_ctes(vendor, label="0", joins="", where=where, drills=False)
    sql = (
        f"WITH {ctes} "  # noqa: S608 - no values in the text
        "SELECT mttd_us, mtta_us, mttr_us FROM durations ORDER BY detected_at DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [service_id, _db_value(start), _db_value(end), limit])
        rows = cursor.fetchall()
    return [tuple(None if value is None else seconds(int(value)) for value in row) for row in rows]


def incident_durations(*, incident_ids: Sequence[int]) -> dict[int, dict]:
    """Impact start, detection, acknowledgement, resolution and MTTD / MTTA / MTTR (seconds,
    None where not applicable) of each incident, computed by the same SQL as the figures."""
    if not incident_ids:
        return {}
    vendor = engine()
    ids = ", ".join(str(int(i)) for i in incident_ids)
    ctes = _durations_ctes(vendor, label="0", joins="", where=f"i.id IN ({ids})", drills=None)
    instants = ", ".join(
        _epoch_us(vendor, column)
        for column in ("impact_at", "detected_at", "acknowledged_at", "resolved_at")
    )
    sql = (
        f"WITH {ctes} "  # noqa: S608 - ids are int()-checked
        f"SELECT incident_id, {instants}, drill_id, mttd_us, mtta_us, mttr_us FROM durations"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [])
        rows = cursor.fetchall()
    result = {}
    for incident_id, impact, detected, acked, resolved, drill_id, mttd, mtta, mttr in rows:
        result[incident_id] = {
            "impact_start": _instant(impact),
            "detected": _instant(detected),
            "acknowledged": _instant(acked),
            "resolved": _instant(resolved) if mttr is not None else None,
            "drill_id": drill_id,
            "mttd": None if mttd is None else seconds(int(mttd)),
            "mtta": None if mtta is None else seconds(int(mtta)),
            "mttr": None if mttr is None else seconds(int(mttr)),
        }
    return result
