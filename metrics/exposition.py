"""GET /metrics: Prometheus text exposition format 0.0.4, written by prometheus-client from
what the database holds at scrape time (nothing lives in process memory, so every web
process on every host answers the same).

Counters and the histogram never go down: they are totals kept in PostgreSQL
(incidents.CounterTotal, written by incidents.counters in the transaction of what they
count), not counts of rows that retention removes.

* pagerline_alert_deliveries_received_total{source}: webhook deliveries accepted, counted
  once each when the worker first settles it (processed or failed); those not settled yet
  are in pagerline_alert_delivery_backlog;
* pagerline_alert_deliveries_failed_total{source}: processings that failed (each time: a
  retried delivery that fails again counts again);
* pagerline_ingest_latency_seconds: histogram of receipt -> processed (committed) of the
  deliveries processed at their first settling; cumulative, so rate() and increase() work;
* pagerline_notification_failures_total{channel}: notification attempts of the sending
  worker (pages, handoffs, verification codes) that failed, one per row, including rows
  whose worker was lost mid-send; a user's "send a test" button is not counted;
* pagerline_alert_deliveries{status}: deliveries pending, processing or failed right now;
* pagerline_alert_delivery_backlog: pending + processing right now;
* pagerline_alert_delivery_oldest_pending_age_seconds: how long the oldest (lowest id)
  unfinished delivery has waited, since its receipt or its retry; 0 with no backlog;
* pagerline_escalation_steps_overdue, pagerline_notification_rule_steps_overdue,
  pagerline_notifications_overdue: escalation steps, steps of people's notification rules
  and messages to people due more than PAGERLINE_ESCALATION_OVERDUE_SECONDS ago and not
  done (beat's auditors re-drive each; a lasting value means they cannot);
* pagerline_incidents_open{team, service, state}: open incidents now;
* pagerline_incident_{mttd,mtta,mttr}_7d_seconds{team, service, stat}: exact production
  figures (drills excluded) of incidents detected in the last 7 days, and
  pagerline_incidents_7d{team, service} how many there were.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from incidents import counters
from incidents.intake import sources
from incidents.models import (
    OPEN_STATUSES,
    AlertDelivery,
    Channel,
    DeliveryStatus,
    EscalationState,
    Incident,
    IncidentEscalation,
    Notification,
    NotificationStatus,
    PageState,
    PersonalPage,
    Service,
)
from metrics import mttx_sql

log = logging.getLogger(__name__)
# generate_latest writes the classic text format; prometheus-client's CONTENT_TYPE_LATEST
# now names version 1.0.0 (UTF-8 names), which older scrapers do not know.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
MTTX_WINDOW = timedelta(days=7)
_STATS = ("mean", "p50", "p90", "max")
_UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.PROCESSING)
_RUNNING = (EscalationState.ACTIVE, EscalationState.HELD)


def _totals() -> list[Metric]:
    totals = counters.counters_read()

    def total(name: str, label: str = "") -> int:
        return totals.get((name, label), 0)

    def labels_of(name: str, known: list[str]) -> list[str]:
        return sorted(set(known) | {label for n, label in totals if n == name})

    received = CounterMetricFamily(
        "pagerline_alert_deliveries_received",
        "Webhook deliveries accepted, by alert source, counted once each when the worker "
        "first settles it (processed or failed); unsettled ones are in the backlog gauge.",
        labels=["source"],
    )
    failed = CounterMetricFamily(
        "pagerline_alert_deliveries_failed",
        "Delivery processings that failed (bad payload or a bug), by alert source.",
        labels=["source"],
    )
    for source in labels_of(counters.DELIVERIES_RECEIVED, list(sources.REGISTRY)):
        received.add_metric([source], total(counters.DELIVERIES_RECEIVED, source))
    for source in labels_of(counters.DELIVERIES_FAILED, list(sources.REGISTRY)):
        failed.add_metric([source], total(counters.DELIVERIES_FAILED, source))

    count = total(counters.INGEST_LATENCY_COUNT)
    latency = HistogramMetricFamily(
        "pagerline_ingest_latency_seconds",
        "Webhook receipt to processed (committed), of deliveries processed at their first "
        "settling; cumulative since the counters began.",
        buckets=[
            *(
                (counters.bucket_label(bound), total(counters.INGEST_LATENCY_BUCKET, label))
                for bound in counters.LATENCY_BUCKETS
                for label in [counters.bucket_label(bound)]
            ),
            ("+Inf", count),
        ],
        sum_value=total(counters.INGEST_LATENCY_SUM_US) / 1_000_000,
    )

    notifications = CounterMetricFamily(
        "pagerline_notification_failures",
        "Notification attempts that failed (one per page or handoff a failed message "
        "carried, and per row whose worker was lost mid-send), by channel.",
        labels=["channel"],
    )
    for channel in labels_of(counters.NOTIFICATION_FAILURES, list(Channel.values)):
        notifications.add_metric([channel], total(counters.NOTIFICATION_FAILURES, channel))
    return [received, failed, latency, notifications]


def _deliveries(*, now: datetime) -> list[Metric]:
    # The unfinished ones through delivery_unfinished_idx, the failed through
    # delivery_failed_idx: neither reads the table's millions of processed rows.
    by_status = dict.fromkeys([*_UNFINISHED, DeliveryStatus.FAILED], 0)
    by_status.update(
        AlertDelivery.objects.filter(status__in=_UNFINISHED)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_status[DeliveryStatus.FAILED] = AlertDelivery.objects.filter(
        status=DeliveryStatus.FAILED
    ).count()
    current = GaugeMetricFamily(
        "pagerline_alert_deliveries",
        "Deliveries not processed yet (pending, processing) or failed, now.",
        labels=["status"],
    )
    for status, n in by_status.items():
        current.add_metric([str(status)], n)
    backlog = GaugeMetricFamily(
        "pagerline_alert_delivery_backlog",
        "Deliveries waiting to be processed (pending + processing), now.",
        value=sum(by_status[status] for status in _UNFINISHED),
    )
    # The first of each status in id order: an index scan that stops at one row, however
    # long the backlog (one query for both would sort every unfinished row).
    firsts = [
        AlertDelivery.objects.filter(status=status)
        .order_by("id")
        .values_list(Coalesce("settled_at", "received_at"), flat=True)
        .first()
        for status in _UNFINISHED
        if by_status[status]
    ]
    waiting_since = min((at for at in firsts if at is not None), default=None)
    age = GaugeMetricFamily(
        "pagerline_alert_delivery_oldest_pending_age_seconds",
        "Seconds the oldest unfinished delivery has waited since its receipt or retry "
        "(0 when none waits).",
        value=max(0.0, (now - waiting_since).total_seconds()) if waiting_since else 0.0,
    )
    return [current, backlog, age]


def _overdue(*, now: datetime) -> list[Metric]:
    """Work that was due more than PAGERLINE_ESCALATION_OVERDUE_SECONDS ago and has not
    happened: beat's auditors re-drive each kind every PAGERLINE_ESCALATION_AUDIT_SECONDS,
    so a value that lasts means they cannot (no beat, no worker, the broker down)."""
    overdue = now - timedelta(seconds=settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS)
    return [
        GaugeMetricFamily(
            "pagerline_escalation_steps_overdue",
            "Escalation steps due more than PAGERLINE_ESCALATION_OVERDUE_SECONDS ago and not "
            "fired yet, now (the auditor re-drives them; a lasting value means it cannot).",
            value=IncidentEscalation.objects.filter(
                state__in=_RUNNING, next_fire_at__lte=overdue
            ).count(),
        ),
        GaugeMetricFamily(
            "pagerline_notification_rule_steps_overdue",
            "Steps of people's notification rules (a page's next contact) due more than "
            "PAGERLINE_ESCALATION_OVERDUE_SECONDS ago and not fired yet, now.",
            value=PersonalPage.objects.filter(
                state=PageState.ACTIVE, next_fire_at__lte=overdue
            ).count(),
        ),
        GaugeMetricFamily(
            "pagerline_notifications_overdue",
            "Messages to people (pages, handoff notices) due more than "
            "PAGERLINE_ESCALATION_OVERDUE_SECONDS ago and not taken by a sending worker yet, "
            "now.",
            value=Notification.objects.filter(
                status=NotificationStatus.PENDING, next_attempt_at__lte=overdue
            ).count(),
        ),
    ]


def _incidents(*, now: datetime, services: dict[int, tuple[str, str]]) -> list[Metric]:
    open_family = GaugeMetricFamily(
        "pagerline_incidents_open",
        "Open incidents by service and state.",
        labels=["team", "service", "state"],
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
            open_family.add_metric([*labels, str(status)], open_counts.get((service_id, status), 0))

    count_family = GaugeMetricFamily(
        "pagerline_incidents_7d",
        "Production incidents detected in the last 7 days (drills excluded).",
        labels=["team", "service"],
    )
    figures = {
        metric: GaugeMetricFamily(
            f"pagerline_incident_{metric}_7d_seconds",
            f"{metric.upper()} of production incidents detected in the last 7 days "
            "(exact mean, p50, p90, max; see docs/metrics.md).",
            labels=["team", "service", "stat"],
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
        count_family.add_metric(list(labels), agg.incidents if agg else 0)
        if agg is None:
            continue
        for metric, family in figures.items():
            summary = getattr(agg, metric).summary()
            for stat in _STATS:
                value = getattr(summary, stat)
                if value is not None:
                    family.add_metric([*labels, stat], value)
    return [open_family, count_family, *figures.values()]


class PagerlineCollector(Collector):
    """Everything /metrics shows, read from the database when collected."""

    def __init__(self, *, now: datetime):
        self.now = now

    def collect(self) -> Iterator[Metric]:
        services = {
            pk: (team, slug)
            for pk, slug, team in Service.objects.order_by("team__slug", "slug").values_list(
                "pk", "slug", "team__slug"
            )
        }
        yield from _totals()
        yield from _deliveries(now=self.now)
        yield from _overdue(now=self.now)
        yield from _incidents(now=self.now, services=services)


def render(*, now: datetime) -> bytes:
    """The exposition text; a registry per scrape, so no state outlives the request."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PagerlineCollector(now=now))
    return generate_latest(registry)


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
    try:
        text = render(now=timezone.now())
    except DatabaseError as exc:
        # Every figure comes from the database: without it there is nothing true to show.
        # A 503 fails the scrape (up == 0) and says why, instead of a 500 page.
        log.warning("/metrics: database unavailable (%s)", type(exc).__name__)
        return HttpResponse(
            f"metrics unavailable: database unreachable ({type(exc).__name__})\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(text, content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
