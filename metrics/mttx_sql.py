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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.utils.dateparse import parse_datetime

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
        return f"((EXTRACT(EPOCH FROM {end}) - EXTRACT(EPOCH FROM {start})) * 1000000)::bigint"
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


def _durations_ctes(vendor: str, *, ranged: bool, where: str) -> str:
    from metrics.models import DrillIncident, DrillService

    quote = connection.ops.quote_name
    incident = quote(Incident._meta.db_table)
    drill_incident = quote(DrillIncident._meta.db_table)
    drill_service = quote(DrillService._meta.db_table)
    resolved = IncidentStatus.RESOLVED.value

    def duration(end: str, start: str) -> str:
        return duration_us(vendor, end, start)

    range_join = (
        "JOIN ranges r ON i.detected_at >= r.starts AND i.detected_at < r.ends" if ranged else ""
    )
    label = "r.label" if ranged else "''"
    # A drill incident's impact starts at its service's fault injection. No impact start is
    # later than detection: a correction after it means an MTTD of zero, not a negative one.
    start = "COALESCE(ds.injected_at, i.impact_started_at)"
    return f"""
base AS (
  SELECT i.id AS incident_id, i.service_id, {label} AS label, i.status, i.detected_at,
         i.acknowledged_at, i.resolved_at,
         CASE WHEN {start} > i.detected_at THEN i.detected_at ELSE {start} END AS impact_at,
         di.drill_id
  FROM {incident} i
  {range_join}
  LEFT JOIN {drill_incident} di ON di.incident_id = i.id
  LEFT JOIN {drill_service} ds ON ds.drill_id = di.drill_id AND ds.service_id = di.service_id
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
)"""  # noqa: S608 - built from constants; values are parameters, ids are int()-checked


def _where(
    *, service_ids: Sequence[int] | None, drills: bool | None, span: bool
) -> tuple[str, list]:
    clauses, params = [], []
    if span:
        # Every status, spelled out, lets PostgreSQL range-scan the (status, detected_at)
        # index for the overall span instead of reading the whole table.
        statuses = list(IncidentStatus.values)
        clauses.append(f"i.status IN ({', '.join(['%s'] * len(statuses))})")
        params += statuses
        clauses.append("i.detected_at >= %s AND i.detected_at < %s")
    if service_ids is not None:
        clauses.append(f"i.service_id IN ({', '.join(str(int(s)) for s in service_ids)})")
    if drills is not None:
        clauses.append("di.id IS NOT NULL" if drills else "di.id IS NULL")
    return " AND ".join(clauses) or "1 = 1", params


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
    where, where_params = _where(service_ids=service_ids, drills=drills, span=True)
    span = [_db_value(min(r[1] for r in ranges)), _db_value(max(r[2] for r in ranges))]
    values = ", ".join(["(%s, %s, %s)"] * len(ranges))
    range_params = [
        p for label, start, end in ranges for p in (label, _db_value(start), _db_value(end))
    ]
    keys = "service_id, label" if per_service else "label"
    body = _postgresql_aggregate(keys) if vendor == "postgresql" else _sqlite_aggregate(keys)
    ctes = _durations_ctes(vendor, ranged=True, where=where)
    sql = f"WITH ranges(label, starts, ends) AS (VALUES {values}), {ctes} {body}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*range_params, *where_params, *span])
        rows = cursor.fetchall()
    return [_aggregate_from_row(row, per_service=per_service) for row in rows]


def _aggregate_from_row(row: Sequence, *, per_service: bool) -> Aggregate:
    if per_service:
        service_id, label, *rest = row
    else:
        service_id, (label, *rest) = None, row
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


def _instant(value) -> datetime | None:
    """A raw cursor returns datetimes on PostgreSQL and Django's text on SQLite."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def incident_durations(*, incident_ids: Sequence[int]) -> dict[int, dict]:
    """Impact start, detection, acknowledgement, resolution and MTTD / MTTA / MTTR (seconds,
    None where not applicable) of each incident, computed by the same SQL as the figures."""
    if not incident_ids:
        return {}
    vendor = engine()
    ids = ", ".join(str(int(i)) for i in incident_ids)
    sql = (
        f"WITH {_durations_ctes(vendor, ranged=False, where=f'i.id IN ({ids})')} "  # noqa: S608
        "SELECT incident_id, impact_at, detected_at, acknowledged_at, resolved_at, drill_id, "
        "mttd_us, mtta_us, mttr_us FROM durations"
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
