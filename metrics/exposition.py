"""GET /metrics: Prometheus text exposition format 0.0.4, written by hand.

Everything is read from the database at scrape time (nothing is kept in process memory, so
any web process answers the same):

* pagerline_alert_deliveries_received_total{source}: webhook bodies accepted, counted from
  the stored deliveries (a counter; it drops only if old deliveries are ever purged, which
  Prometheus treats as a reset);
* pagerline_alert_deliveries{status}: deliveries pending, processing or failed right now;
* pagerline_ingest_latency_seconds: processed_at - received_at of the deliveries received in
  the last PAGERLINE_INGEST_LATENCY_WINDOW_SECONDS and already processed. A sliding window,
  not a cumulative histogram: use histogram_quantile() on the buckets directly, not rate();
* pagerline_incidents_open{team, service, state}: open incidents now;
* pagerline_incident_{mttd,mtta,mttr}_7d_seconds{team, service, stat}: exact production
  figures (drills excluded) of incidents detected in the last 7 days, and
  pagerline_incidents_7d{team, service} how many there were.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from incidents.models import (
    OPEN_STATUSES,
    AlertDelivery,
    DeliveryStatus,
    Incident,
    Service,
)
from metrics import mttx_sql

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
MTTX_WINDOW = timedelta(days=7)
_STATS = ("mean", "p50", "p90", "max")


# --- the text format (pure) ---------------------------------------------------------------


@dataclass
class Family:
    name: str
    kind: str  # counter, gauge, histogram
    help: str
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        self.samples.append((self.name + suffix, labels, value))


def _escape_label(value: str) -> str:
    return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


def _escape_help(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n")


def format_value(value: float) -> str:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def render(families: list[Family]) -> str:
    lines = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for name, labels, value in family.samples:
            if labels:
                inner = ",".join(f'{key}="{_escape_label(str(v))}"' for key, v in labels.items())
                name = f"{name}{{{inner}}}"
            lines.append(f"{name} {format_value(value)}")
    return "\n".join(lines) + "\n"


# --- collecting from the database ---------------------------------------------------------


def _deliveries() -> list[Family]:
    received = Family(
        "pagerline_alert_deliveries_received_total",
        "counter",
        "Webhook deliveries accepted, by alert source.",
    )
    current = Family(
        "pagerline_alert_deliveries",
        "gauge",
        "Deliveries not processed yet (pending, processing) or failed.",
    )
    totals: dict[str, int] = {}
    by_status = {DeliveryStatus.PENDING: 0, DeliveryStatus.PROCESSING: 0, DeliveryStatus.FAILED: 0}
    counts = AlertDelivery.objects.values_list("integration__source", "status").annotate(
        n=Count("id")
    )
    for source, status, n in counts.order_by():
        totals[source] = totals.get(source, 0) + n
        if status in by_status:
            by_status[status] += n
    for source in sorted(totals):
        received.add(totals[source], source=source)
    for status, n in by_status.items():
        current.add(n, status=str(status))
    return [received, current]


def _ingest_latency(*, now: datetime) -> Family:
    window = settings.PAGERLINE_INGEST_LATENCY_WINDOW_SECONDS
    family = Family(
        "pagerline_ingest_latency_seconds",
        "histogram",
        f"Webhook receipt to processed, deliveries received in the last {window}s "
        "(a sliding window: use histogram_quantile on the buckets, not rate).",
    )
    latency = mttx_sql.duration_us(mttx_sql.engine(), "processed_at", "received_at")
    buckets = ", ".join(
        f"SUM(CASE WHEN latency_us <= {round(bound * 1_000_000)} THEN 1 ELSE 0 END)"
        for bound in LATENCY_BUCKETS
    )
    table = connection.ops.quote_name(AlertDelivery._meta.db_table)
    sql = (
        f"SELECT COUNT(*), SUM(latency_us), {buckets} FROM ("  # noqa: S608 - constants
        f"SELECT {latency} AS latency_us FROM {table} "
        "WHERE status = %s AND received_at >= %s AND processed_at IS NOT NULL) recent"
    )
    since = connection.ops.adapt_datetimefield_value(now - timedelta(seconds=window))
    with connection.cursor() as cursor:
        cursor.execute(sql, [DeliveryStatus.PROCESSED.value, since])
        count, total_us, *cumulative = cursor.fetchone()
    for bound, n in zip(LATENCY_BUCKETS, cumulative, strict=True):
        family.add(int(n or 0), "_bucket", le=format_value(bound))
    family.add(int(count), "_bucket", le="+Inf")
    family.add(int(total_us or 0) / 1_000_000, "_sum")
    family.add(int(count), "_count")
    return family


def _incidents(*, now: datetime, services: dict[int, dict[str, str]]) -> list[Family]:
    open_family = Family(
        "pagerline_incidents_open", "gauge", "Open incidents by service and state."
    )
    open_counts = {
        (service_id, status): n
        for service_id, status, n in Incident.objects.filter(status__in=OPEN_STATUSES)
        .values_list("service_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    }
    for service_id, labels in services.items():
        for status in OPEN_STATUSES:
            open_family.add(open_counts.get((service_id, status), 0), **labels, state=str(status))

    count_family = Family(
        "pagerline_incidents_7d",
        "gauge",
        "Production incidents detected in the last 7 days (drills excluded).",
    )
    figures = {
        metric: Family(
            f"pagerline_incident_{metric}_7d_seconds",
            "gauge",
            f"{metric.upper()} of production incidents detected in the last 7 days "
            "(exact mean, p50, p90, max; see docs/metrics.md).",
        )
        for metric in mttx_sql.METRICS
    }
    computed = {
        agg.service_id: agg
        for agg in mttx_sql.aggregate(
            ranges=[("7d", now - MTTX_WINDOW, now)], service_ids=None, drills=False
        )
    }
    for service_id, labels in services.items():
        agg = computed.get(service_id)
        count_family.add(agg.incidents if agg else 0, **labels)
        if agg is None:
            continue
        for metric, family in figures.items():
            summary = getattr(agg, metric).summary()
            for stat in _STATS:
                value = getattr(summary, stat)
                if value is not None:
                    family.add(value, **labels, stat=stat)
    return [open_family, count_family, *figures.values()]


def collect(*, now: datetime) -> list[Family]:
    services = {
        pk: {"team": team, "service": slug}
        for pk, slug, team in Service.objects.order_by("team__slug", "slug").values_list(
            "pk", "slug", "team__slug"
        )
    }
    return [*_deliveries(), _ingest_latency(now=now), *_incidents(now=now, services=services)]


# --- the view -----------------------------------------------------------------------------


def _authorized(request) -> bool:
    token = settings.PAGERLINE_METRICS_TOKEN
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@require_GET
def prometheus_metrics(request):
    """Open when PAGERLINE_METRICS_TOKEN is unset; otherwise a bearer token is required."""
    if not _authorized(request):
        response = HttpResponse(
            "Authorization: Bearer <PAGERLINE_METRICS_TOKEN> required\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="pagerline-metrics"'
        return response
    response = HttpResponse(render(collect(now=timezone.now())), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
