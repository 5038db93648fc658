"""GET /metrics: Prometheus text format 0.0.4, parsed strictly, with values from hand-built
deliveries and incidents."""

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from incidents.models import DeliveryStatus
from incidents.tests.factories import (
    make_delivery,
    make_incident,
    make_integration,
    make_service,
)
from metrics.exposition import Family, collect, render
from metrics.tests.factories import attach_to_drill

pytestmark = pytest.mark.django_db

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)')
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "counter": ("",), "gauge": ("",)}


def parse(text: str) -> dict[str, dict]:
    """A strict reader of the text format: every sample belongs to a family declared with
    HELP and TYPE before it, labels are well formed and values are numbers."""
    assert text.endswith("\n")
    families: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert name not in families, f"{name} declared twice"
            current = families[name] = {"help": help_text, "type": None, "samples": []}
            current["name"] = name
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert current is not None and current["name"] == name
            assert kind in _SUFFIXES
            current["type"] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, labels_text, value = match.groups()
            assert current is not None and current["type"], f"{name} has no TYPE"
            assert name in {current["name"] + s for s in _SUFFIXES[current["type"]]}, name
            labels = {}
            if labels_text:
                consumed = "".join(m.group(0) for m in _LABEL.finditer(labels_text))
                assert consumed == labels_text, f"bad labels: {labels_text!r}"
                labels = {
                    m.group(1): m.group(2).replace(r"\"", '"').replace(r"\n", "\n")
                    for m in _LABEL.finditer(labels_text)
                }
            current["samples"].append((name, labels, float(value)))
    return families


def value(families, name, sample=None, **labels):
    matches = [
        v for n, found, v in families[name]["samples"] if n == (sample or name) and found == labels
    ]
    assert len(matches) == 1, (name, labels, families[name]["samples"])
    return matches[0]


@pytest.fixture
def now():
    return timezone.now()


def test_it_serves_text_format_0_0_4(client, integration):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = parse(response.content.decode())
    assert {name: family["type"] for name, family in families.items()} == {
        "pagerline_alert_deliveries_received_total": "counter",
        "pagerline_alert_deliveries": "gauge",
        "pagerline_ingest_latency_seconds": "histogram",
        "pagerline_incidents_open": "gauge",
        "pagerline_incidents_7d": "gauge",
        "pagerline_incident_mttd_7d_seconds": "gauge",
        "pagerline_incident_mtta_7d_seconds": "gauge",
        "pagerline_incident_mttr_7d_seconds": "gauge",
    }


def test_it_counts_deliveries_by_source_and_state(integration, service, now):
    alertmanager, _ = integration
    grafana, _ = make_integration(service, source="grafana")
    make_delivery(alertmanager, status=DeliveryStatus.PROCESSED, received_at=now, latency=0.5)
    make_delivery(alertmanager, status=DeliveryStatus.PROCESSED, received_at=now, latency=0.5)
    make_delivery(alertmanager, status=DeliveryStatus.PENDING, received_at=now)
    make_delivery(grafana, status=DeliveryStatus.FAILED, received_at=now, latency=0.1)
    families = parse(render(collect(now=now)))
    received = "pagerline_alert_deliveries_received_total"
    assert value(families, received, source="alertmanager") == 3
    assert value(families, received, source="grafana") == 1
    assert value(families, "pagerline_alert_deliveries", status="pending") == 1
    assert value(families, "pagerline_alert_deliveries", status="processing") == 0
    assert value(families, "pagerline_alert_deliveries", status="failed") == 1


def test_it_builds_the_ingest_latency_histogram_over_the_recent_window(integration, now, settings):
    settings.PAGERLINE_INGEST_LATENCY_WINDOW_SECONDS = 300
    record, _ = integration
    for latency in (0.03, 0.7, 4.0):
        make_delivery(
            record,
            status=DeliveryStatus.PROCESSED,
            received_at=now - timedelta(seconds=60),
            latency=latency,
        )
    # Outside the window, or not processed: not in the histogram.
    make_delivery(
        record, status=DeliveryStatus.PROCESSED, received_at=now - timedelta(minutes=6), latency=9
    )
    make_delivery(record, status=DeliveryStatus.PENDING, received_at=now)
    families = parse(render(collect(now=now)))
    name = "pagerline_ingest_latency_seconds"
    buckets = {
        labels["le"]: v for n, labels, v in families[name]["samples"] if n == f"{name}_bucket"
    }
    assert buckets == {
        "0.05": 1, "0.1": 1, "0.25": 1, "0.5": 1, "1.0": 2, "2.5": 2, "5.0": 3, "10.0": 3,
        "30.0": 3, "60.0": 3, "300.0": 3, "+Inf": 3,
    }  # fmt: skip
    assert value(families, name, f"{name}_count") == 3
    assert value(families, name, f"{name}_sum") == pytest.approx(4.73)


def test_it_shows_open_incidents_and_seven_day_figures_per_service(team, service, now):
    quiet = make_service(team, "search", "Search")
    hour = timedelta(hours=1)
    minute = timedelta(minutes=1)
    start = now - 2 * hour
    # MTTD 120 / MTTA 60 / MTTR 1800, and MTTD 60 / MTTA 240 / MTTR 600.
    make_incident(
        service, impact=start, detected=start + 2 * minute, acked=start + 3 * minute,
        resolved=start + 30 * minute,
    )  # fmt: skip
    make_incident(
        service, impact=start, detected=start + minute, acked=start + 5 * minute,
        resolved=start + 10 * minute,
    )  # fmt: skip
    make_incident(service, impact=start, detected=start + 3 * minute)  # open, MTTD 180
    # Eight days ago, and a drill incident: neither counts.
    old = now - timedelta(days=8)
    make_incident(service, impact=old, detected=old + hour, resolved=old + 2 * hour)
    drill = make_incident(service, impact=start, detected=start + 50 * minute)
    attach_to_drill(drill, injected=start - hour)

    families = parse(render(collect(now=now)))
    checkout = {"team": "payments", "service": "checkout"}
    search = {"team": "payments", "service": "search"}
    open_name = "pagerline_incidents_open"
    # The 8-day-old one is resolved; the drill incident and one more are still open.
    assert value(families, open_name, **checkout, state="triggered") == 2
    assert value(families, open_name, **checkout, state="acknowledged") == 0
    assert value(families, open_name, **search, state="triggered") == 0
    assert value(families, "pagerline_incidents_7d", **checkout) == 3
    assert value(families, "pagerline_incidents_7d", **search) == 0
    mttd = "pagerline_incident_mttd_7d_seconds"
    assert value(families, mttd, **checkout, stat="mean") == 120.0
    assert value(families, mttd, **checkout, stat="p50") == 120.0
    assert value(families, mttd, **checkout, stat="p90") == pytest.approx(168.0)
    assert value(families, mttd, **checkout, stat="max") == 180.0
    mttr = "pagerline_incident_mttr_7d_seconds"
    assert value(families, mttr, **checkout, stat="mean") == 1200.0
    assert value(families, mttr, **checkout, stat="max") == 1800.0
    assert value(families, "pagerline_incident_mtta_7d_seconds", **checkout, stat="p50") == 150.0
    assert not [s for s in families[mttd]["samples"] if s[1]["service"] == quiet.slug]


def test_it_escapes_label_values():
    family = Family("x_total", "counter", "Help with a \\ and a\nnewline.")
    family.add(1, service='a"b\\c\nd')
    text = render([family])
    assert text == (
        "# HELP x_total Help with a \\\\ and a\\nnewline.\n"
        "# TYPE x_total counter\n"
        'x_total{service="a\\"b\\\\c\\nd"} 1\n'
    )
    assert parse(text)["x_total"]["samples"][0][2] == 1


def test_its_query_count_does_not_grow(client, team, integration, django_assert_max_num_queries):
    record, _ = integration
    service = record.service
    make_incident(service, detected=timezone.now() - timedelta(hours=1))
    with django_assert_max_num_queries(8) as few:
        client.get("/metrics")
    for n in range(5):
        other = make_service(team, f"svc-{n}", f"Service {n}")
        make_incident(other, detected=timezone.now() - timedelta(hours=1))
        make_delivery(
            record, status=DeliveryStatus.PROCESSED, received_at=timezone.now(), latency=0.2
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/metrics")


TOKEN = "prometheus-scrape-token-0123"


def test_it_needs_the_bearer_token_when_one_is_set(client, settings):
    settings.PAGERLINE_METRICS_TOKEN = TOKEN
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    allowed = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert allowed.status_code == 200
    assert "pagerline_incidents_open" in allowed.content.decode()


def test_it_is_open_without_a_token(client, settings):
    settings.PAGERLINE_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200
    assert client.post("/metrics").status_code == 405


def test_a_short_token_stops_start_up():
    env = {**os.environ, "PAGERLINE_METRICS_TOKEN": "short"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "PAGERLINE_METRICS_TOKEN must be at least 16 characters" in result.stderr
