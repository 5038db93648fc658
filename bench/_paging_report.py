"""bench/paging.py's figures, read from the database, the receivers and the worker's
counters once the storm has drained."""

from __future__ import annotations

import io
import json
import math
import os
import pstats
import re
import resource
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import _common

CHANNELS = ("email", "apprise", "webhook")
PAGES = ("escalation", "fallback")


# --- CPU --------------------------------------------------------------------------------------


def _pids_cpu(pids) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


class BackendsCpu:
    """CPU seconds of the PostgreSQL backends serving this database, sampled every half
    second in a thread (the worker's connections are replaced every CONN_MAX_AGE, so a
    before/after reading would miss those that came and went)."""

    def __init__(self, url: str):
        self.url = url
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.running = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, conn) -> None:
        pids = [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            )
        ]
        for pid, cpu in _pids_cpu(pids).items():
            # A backend that was there at the start counts from then; later ones in full.
            self.first.setdefault(pid, cpu if not self.running else 0.0)
            self.last[pid] = cpu

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url.replace("postgres://", "postgresql://", 1)) as conn:
            conn.autocommit = True
            self._sample(conn)
            self.running = True
            while self.running:
                time.sleep(0.5)
                self._sample(conn)

    def start(self) -> BackendsCpu:
        self.thread.start()
        while not self.running:
            time.sleep(0.05)
        return self

    def stop(self) -> float:
        self.running = False
        self.thread.join()
        return sum(cpu - self.first[pid] for pid, cpu in self.last.items())


def _own() -> float:
    """This process (the receivers) and its waited-for children (wrk)."""
    mine = os.times()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.user + mine.system + children.ru_utime + children.ru_stime


def cpu_now(web: int, worker: int, database_url: str) -> dict:
    return {
        "web": _common.group_cpu_seconds(web),
        "worker": _common.group_cpu_seconds(worker),
        "postgres": BackendsCpu(database_url).start(),
        "bench": _own(),
    }


def cpu_since(before: dict, web: int, worker: int) -> dict:
    return {
        "web": _common.group_cpu_seconds(web) - before["web"],
        "worker": _common.group_cpu_seconds(worker) - before["worker"],
        "postgres": before["postgres"].stop(),
        "bench (wrk, receivers)": _own() - before["bench"],
    }


# --- figures ----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest rank of sorted `values`."""
    if not values:
        return math.nan
    return values[max(0, math.ceil(p * len(values)) - 1)]


def _spread(values: list[float]) -> str:
    values = sorted(values)
    return (
        f"p50 {percentile(values, 0.5):6.2f} s  p95 {percentile(values, 0.95):6.2f} s"
        f"  p99 {percentile(values, 0.99):6.2f} s  max {values[-1] if values else math.nan:6.2f} s"
    )


def _query(sql: str, params) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _storm_incidents(began: datetime) -> dict[int, datetime]:
    """Incident id -> received_at of the delivery that opened it (each storm webhook is a
    new alert group, named by its groupKey)."""
    rows = _query(
        "SELECT i.id, d.received_at FROM incidents_alertdelivery d"
        " JOIN incidents_integration g ON g.id = d.integration_id"
        " JOIN incidents_incident i ON i.service_id = g.service_id"
        "  AND i.dedup_key = d.body::jsonb->>'groupKey'"
        " WHERE d.received_at >= %s",
        [began],
    )
    return dict(rows)


def _first_messages(ids: list[int]) -> dict[str, dict[int, datetime]]:
    """Per channel: incident id -> when the first message carrying its page was claimed
    for its transport (its own row's claim, or the head row's it is bundled into)."""
    rows = _query(
        "SELECT n.channel, n.incident_id, MIN(COALESCE(h.claimed_at, n.claimed_at))"
        " FROM incidents_notification n"
        " LEFT JOIN incidents_notification h ON h.id = n.bundled_into_id"
        " WHERE n.incident_id = ANY(%s) AND n.reason = ANY(%s)"
        "  AND n.status IN ('sent', 'failed')"
        " GROUP BY 1, 2",
        [ids, list(PAGES)],
    )
    found: dict[str, dict[int, datetime]] = defaultdict(dict)
    for channel, incident_id, at in rows:
        found[channel][incident_id] = at
    return found


def _webhook_arrivals(receivers) -> dict[int, float]:
    """Incident id -> when the first webhook naming it arrived (epoch seconds); a webhook
    body names every incident of a bundle."""
    first: dict[int, float] = {}
    for request in receivers.http.requests:
        if not request["path"].startswith("/hook/"):
            continue
        body = json.loads(request["body"])
        named = [i["id"] for i in body.get("incidents") or [body["incident"]]]
        for incident_id in named:
            first.setdefault(incident_id, request["at"])
    return first


def _messages(receivers) -> Counter:
    counted = Counter({"email": len(receivers.smtp.messages)})
    for request in receivers.http.requests:
        counted["apprise" if request["path"].startswith("/apprise/") else "webhook"] += 1
    return counted


def _rows(ids: list[int]) -> dict[str, dict]:
    """Per channel: rows by status, messages (rows that carried one), largest bundle."""
    found: dict[str, dict] = defaultdict(lambda: {"status": Counter(), "bundles": []})
    for channel, status, count in _query(
        "SELECT channel, status, COUNT(*) FROM incidents_notification"
        " WHERE incident_id = ANY(%s) AND reason = ANY(%s) GROUP BY 1, 2",
        [ids, list(PAGES)],
    ):
        found[channel]["status"][status] = count
    for channel, size in _query(
        "SELECT h.channel, 1 + COUNT(n.id) FROM incidents_notification h"
        " LEFT JOIN incidents_notification n ON n.bundled_into_id = h.id"
        " WHERE h.incident_id = ANY(%s) AND h.reason = ANY(%s) AND h.bundled_into_id IS NULL"
        "  AND h.status IN ('sent', 'failed') GROUP BY h.id",
        [ids, list(PAGES)],
    ):
        found[channel]["bundles"].append(size)
    return found


def _worker_counts(folder: Path, incidents: int) -> None:
    totals: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0.0, 0, 0.0])
    for path in folder.glob("*.json"):
        for name, outcome, *values in json.loads(path.read_text()):
            row = totals[(name.removeprefix("incidents."), outcome)]
            for n, value in enumerate(values):
                row[n] += value
    if not totals:
        print("  worker counters: none written (worker killed?)")
        return
    print(f"  worker tasks over the whole run ({incidents} incidents incl. the warm-up):")
    print(
        "    task (outcome)                   tasks /incident  wall ms   CPU ms    SQL  /incident"
    )
    rows = sorted(totals.items(), key=lambda item: -item[1][3])
    rows.append((("all", ""), [sum(v[i] for v in totals.values()) for i in range(4)]))
    for (name, outcome), (tasks, wall, queries, cpu) in rows:
        label = f"{name} ({outcome})" if outcome else name
        print(
            f"    {label:<32} {tasks:6d} {tasks / incidents:9.2f} {1000 * wall / incidents:8.2f}"
            f" {1000 * cpu / incidents:8.2f} {queries / incidents:6.1f}"
        )


def _profile(folder: Path) -> None:
    files = [str(p) for p in folder.glob("*.prof")]
    if not files:
        print("  no profile written")
        return
    out = io.StringIO()
    stats = pstats.Stats(*files, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(30)
    (folder / "profile.txt").write_text(out.getvalue())
    print(f"  worker profile (cProfile, every pool process): {folder / 'profile.txt'}")
    interesting = re.compile(r"incidents/|oncall/|django/db/models/query|psycopg|kombu|celery")
    lines = [line for line in out.getvalue().splitlines()[:120] if interesting.search(line)]
    print("\n".join(f"    {line}" for line in lines[:30]))


def storm_report(
    *,
    began: datetime,
    ended: datetime,
    offered: dict,
    rate: int,
    drain_seconds: float,
    left: dict,
    receivers,
    cpu: dict,
    profile_dir: Path,
    profiled: bool,
) -> dict:
    from incidents.models import Incident, IncidentEscalation

    accepted = _storm_incidents(began)
    ids = list(accepted)
    span = (ended - began).total_seconds()
    requests = offered["requests"]
    print(
        f"  offered: {requests} webhooks answered in {span:.1f} s = {requests / span:.0f}/s"
        f" (asked {rate}/s; {len(ids)} accepted with those in flight at the end), each a new"
        f" incident; non-2xx {offered['non_2xx']},"
        f" socket errors {offered['socket_errors']}; response p50 {offered['p50_ms']:.1f} ms,"
        f" p99 {offered['p99_ms']:.1f} ms"
    )
    print(
        f"  drained {drain_seconds:.1f} s after the storm ended"
        + (f"; NOT drained: {left}" if any(left.values()) else "")
    )
    first = min(accepted.values()) if accepted else began
    fired = dict(
        IncidentEscalation.objects.filter(
            incident_id__in=ids, last_fired_at__isnull=False
        ).values_list("incident_id", "last_fired_at")
    )
    firsts = _first_messages(ids)
    if fired:
        last = max(fired.values())
        print(
            f"  end to end: {len(fired)} of {len(ids)} incidents escalated, the last"
            f" {(last - first).total_seconds() - span:.1f} s after the storm:"
            f" {len(fired) / (last - first).total_seconds():.0f} incidents/s"
        )
    paged = [
        max(firsts[c][i] for c in CHANNELS) for i in ids if all(i in firsts[c] for c in CHANNELS)
    ]
    if paged:
        last = max(paged)
        print(
            f"  paged on all three channels: {len(paged)} incidents, the last"
            f" {(last - first).total_seconds() - span:.1f} s after the storm:"
            f" {len(paged) / (last - first).total_seconds():.0f} incidents/s"
        )
    print("  accepted -> first message naming the incident claimed for its transport:")
    for channel in CHANNELS:
        waits = [(firsts[channel][i] - accepted[i]).total_seconds() for i in firsts[channel]]
        missing = len(ids) - len(waits)
        print(
            f"    {channel:<8} {_spread(waits)}"
            + (f"  ({missing} incidents never sent)" if missing else "")
        )
    if fired:
        waits = [(fired[i] - accepted[i]).total_seconds() for i in ids if i in fired]
        print(f"    of which accepted -> escalation fired:  {_spread(waits)}")
        waits = [
            (min(firsts[c][i] for c in CHANNELS if i in firsts[c]) - fired[i]).total_seconds()
            for i in ids
            if i in fired and any(i in firsts[c] for c in CHANNELS)
        ]
        print(f"    and escalation fired -> first message: {_spread(waits)}")
    arrivals = _webhook_arrivals(receivers)
    waits = [arrivals[i] - accepted[i].timestamp() for i in ids if i in arrivals]
    print(f"    webhook, arrived at the receiver: {_spread(waits)}")
    rows = _rows(ids)
    received = _messages(receivers)
    print("  messages: received by the receivers / rows that carried one; rows per message:")
    for channel in CHANNELS:
        sizes = sorted(rows[channel]["bundles"])
        statuses = ", ".join(f"{s} {n}" for s, n in sorted(rows[channel]["status"].items()))
        print(
            f"    {channel:<8} {received[channel]:6d} / {len(sizes):6d} messages; bundle"
            f" mean {sum(sizes) / len(sizes) if sizes else 0:.1f}, p50 {percentile(sizes, 0.5)},"
            f" max {sizes[-1] if sizes else 0}; rows: {statuses}"
        )
    total_cpu = sum(cpu.values())
    print(
        f"  CPU seconds from the storm's start to drained ({span + drain_seconds:.0f} s wall,"
        f" 2 cores = {2 * (span + drain_seconds):.0f} CPU s):"
    )
    print(
        "    "
        + ", ".join(f"{name} {seconds:.0f}" for name, seconds in cpu.items())
        + f"; total {total_cpu:.0f}"
    )
    incidents = Incident.objects.count()
    print(
        f"    per incident: worker {1000 * cpu['worker'] / len(ids):.2f} ms,"
        f" web {1000 * cpu['web'] / len(ids):.2f} ms,"
        f" PostgreSQL {1000 * cpu['postgres'] / len(ids):.2f} ms"
    )
    _worker_counts(profile_dir, incidents)
    if profiled:
        _profile(profile_dir)
    complete = not any(left.values()) and all(len(firsts[c]) == len(ids) for c in CHANNELS)
    return {"complete": complete and bool(ids)}
