"""GET /metrics: Prometheus text format 0.0.4 (prometheus-client), parsed strictly and
checked by promtool, with counters that never go down whatever retention removes."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import F
from django.utils import timezone

from incidents import counters
from incidents.intake import drain, retention, store
from incidents.models import (
    AlertDelivery,
    DeliveryStatus,
    EscalationState,
    IncidentEscalation,
    Notification,
    PageState,
    PersonalPage,
)
from incidents.notify import sending
from incidents.tests.factories import (
    make_contact_method,
    make_incident,
    make_integration,
    make_page,
    make_service,
)
from metrics.exposition import render
from metrics.tests.factories import attach_to_drill
from tests.peers import free_port, send_email_to
from tests.support import am_alert, am_payload

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


def scrape(now=None) -> dict[str, dict]:
    return parse(render(now=now or timezone.now()).decode())


def accept(integration, *, at, body=None) -> None:
    """A webhook body stored as the web process stores it (then drained by the test)."""
    payload = body if body is not None else json.dumps(am_payload(am_alert(fingerprint=str(at))))
    store.delivery_accept(integration=integration, body=payload, received_at=at)


def test_it_serves_text_format_0_0_4(client, integration):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = parse(response.content.decode())
    assert {name: family["type"] for name, family in families.items()} == {
        "pagerline_alert_deliveries_received_total": "counter",
        "pagerline_alert_deliveries_failed_total": "counter",
        "pagerline_ingest_latency_seconds": "histogram",
        "pagerline_notification_failures_total": "counter",
        "pagerline_alert_deliveries": "gauge",
        "pagerline_alert_delivery_backlog": "gauge",
        "pagerline_alert_delivery_oldest_pending_age_seconds": "gauge",
        "pagerline_escalation_steps_overdue": "gauge",
        "pagerline_notification_rule_steps_overdue": "gauge",
        "pagerline_notifications_overdue": "gauge",
        "pagerline_incidents_open": "gauge",
        "pagerline_incidents_7d": "gauge",
        "pagerline_incident_mttd_7d_seconds": "gauge",
        "pagerline_incident_mtta_7d_seconds": "gauge",
        "pagerline_incident_mttr_7d_seconds": "gauge",
    }
    # Every source and channel is there from the start, at 0: rate() has a first sample.
    received = "pagerline_alert_deliveries_received_total"
    assert {labels["source"] for _, labels, _ in families[received]["samples"]} >= {
        "alertmanager", "grafana", "pagerduty", "generic", "opsgenie",
    }  # fmt: skip
    failures = "pagerline_notification_failures_total"
    assert value(families, failures, channel="email") == 0


def test_it_counts_settled_deliveries_by_source_and_shows_the_backlog(integration, service, now):
    alertmanager, _ = integration
    grafana, _ = make_integration(service, source="grafana")
    accept(alertmanager, at=now)
    accept(alertmanager, at=now)
    accept(grafana, at=now, body='{"alerts": 3}')  # fails to parse
    drain.deliveries_drain()
    accept(alertmanager, at=now - timedelta(seconds=90))  # waiting: not counted yet
    families = scrape(now)
    received = "pagerline_alert_deliveries_received_total"
    assert value(families, received, source="alertmanager") == 2
    assert value(families, received, source="grafana") == 1
    assert value(families, "pagerline_alert_deliveries_failed_total", source="grafana") == 1
    assert value(families, "pagerline_alert_deliveries", status="pending") == 1
    assert value(families, "pagerline_alert_deliveries", status="processing") == 0
    assert value(families, "pagerline_alert_deliveries", status="failed") == 1
    assert value(families, "pagerline_alert_delivery_backlog") == 1
    age = value(families, "pagerline_alert_delivery_oldest_pending_age_seconds")
    assert age == pytest.approx(90, abs=1)

    drain.deliveries_drain()
    families = scrape()
    assert value(families, received, source="alertmanager") == 3
    assert value(families, "pagerline_alert_delivery_backlog") == 0
    assert value(families, "pagerline_alert_delivery_oldest_pending_age_seconds") == 0


def test_a_retried_delivery_is_received_once_and_each_failure_counts(integration):
    record, _ = integration
    accept(record, at=timezone.now() - timedelta(hours=1), body='{"alerts": 3}')
    drain.deliveries_drain()
    failed = AlertDelivery.objects.get(status=DeliveryStatus.FAILED)
    drain.delivery_retry(delivery=failed)
    # Waiting since its retry, not since its receipt an hour ago.
    assert value(scrape(), "pagerline_alert_delivery_oldest_pending_age_seconds") < 60
    drain.deliveries_drain()  # fails again
    failed.refresh_from_db()
    AlertDelivery.objects.filter(pk=failed.pk).update(body=json.dumps(am_payload(am_alert())))
    drain.delivery_retry(delivery=failed)
    drain.deliveries_drain()  # fixed: processed
    assert AlertDelivery.objects.get(pk=failed.pk).status == DeliveryStatus.PROCESSED
    families = scrape()
    assert value(families, "pagerline_alert_deliveries_received_total", source="alertmanager") == 1
    assert value(families, "pagerline_alert_deliveries_failed_total", source="alertmanager") == 2
    # A retried delivery's wait is human, not intake's: not in the latency histogram.
    assert (
        value(
            families, "pagerline_ingest_latency_seconds", "pagerline_ingest_latency_seconds_count"
        )
        == 0
    )


def buckets(families, name="pagerline_ingest_latency_seconds") -> dict[str, float]:
    return {labels["le"]: v for n, labels, v in families[name]["samples"] if n == f"{name}_bucket"}


def test_the_ingest_latency_histogram_is_cumulative(integration, now):
    record, _ = integration
    for waited in (0, 20, 100, 1000):
        accept(record, at=now - timedelta(seconds=waited))
    drain.deliveries_drain()
    families = scrape()
    name = "pagerline_ingest_latency_seconds"
    found = buckets(families)
    assert list(found) == [
        "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "30.0", "60.0", "300.0", "+Inf",
    ]  # fmt: skip
    # Each bucket holds every latency up to its bound (the fresh delivery took < 10 s).
    assert [found[le] for le in ("10.0", "30.0", "60.0", "300.0", "+Inf")] == [1, 2, 2, 3, 4]
    values = list(found.values())
    assert values == sorted(values)
    assert value(families, name, f"{name}_count") == found["+Inf"] == 4
    assert value(families, name, f"{name}_sum") == pytest.approx(1120, abs=10)


def test_latency_increments_are_exact():
    added = counters.latency_increments([0.05, 0.3, 400.0])
    assert added[(counters.INGEST_LATENCY_BUCKET, "0.05")] == 1  # le: the bound is included
    assert added[(counters.INGEST_LATENCY_BUCKET, "0.5")] == 2
    assert added[(counters.INGEST_LATENCY_BUCKET, "300.0")] == 2
    assert added[(counters.INGEST_LATENCY_COUNT, "")] == 3
    assert added[(counters.INGEST_LATENCY_SUM_US, "")] == 400_350_000


def totals(families) -> dict[tuple, float]:
    """Every counter and histogram sample of a scrape."""
    return {
        (name, tuple(sorted(labels.items()))): v
        for family in families.values()
        if family["type"] in ("counter", "histogram")
        for name, labels, v in family["samples"]
    }


def test_counters_do_not_go_down_when_retention_purges_deliveries(integration, settings):
    record, _ = integration
    old = timezone.now() - timedelta(days=settings.PAGERLINE_DELIVERY_RETENTION_DAYS + 1)
    for n in range(3):
        accept(record, at=old + timedelta(seconds=n))
    accept(record, at=timezone.now())
    drain.deliveries_drain()
    before = totals(scrape())
    assert retention.deliveries_purge(pause=0).deleted == 3
    assert AlertDelivery.objects.count() == 1
    after = totals(scrape())
    assert after == before
    received = ("pagerline_alert_deliveries_received_total", (("source", "alertmanager"),))
    assert after[received] == 4


def test_two_scrapes_after_more_deliveries_only_go_up(integration, service, now):
    record, _ = integration
    grafana, _ = make_integration(service, source="grafana")
    accept(record, at=now)
    drain.deliveries_drain()
    first = totals(scrape())
    accept(record, at=timezone.now())
    accept(grafana, at=timezone.now(), body="[]")
    drain.deliveries_drain()
    retention.deliveries_purge(now=timezone.now() + timedelta(days=400), pause=0)
    assert AlertDelivery.objects.get().status == DeliveryStatus.FAILED  # the processed: gone
    second = totals(scrape())
    assert all(second[key] >= n for key, n in first.items())
    increased = {name for (name, _), n in second.items() if n > first.get((name, _), 0)}
    assert {
        "pagerline_alert_deliveries_received_total",
        "pagerline_alert_deliveries_failed_total",
        "pagerline_ingest_latency_seconds_bucket",
        "pagerline_ingest_latency_seconds_count",
    } <= increased


def test_notification_failures_count_per_channel_and_outlive_their_rows(users, settings):
    send_email_to(settings, free_port())  # nobody listens: a transient failure
    user = users["responder"]
    make_contact_method(user)
    row = make_page(user, subject="[Pagerline] #1 Checkout is down", text="t")
    assert sending.notification_send(notification_id=row.pk) == "failed"
    failures = "pagerline_notification_failures_total"
    assert value(scrape(), failures, channel="email") == 1
    assert value(scrape(), failures, channel="sms") == 0
    user.delete()  # its notifications go with it (cascade); the counter stays
    assert not Notification.objects.exists()
    assert value(scrape(), failures, channel="email") == 1


def test_it_shows_escalation_steps_overdue(service, now, settings):
    settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS = 30
    for due, state in [
        (now - timedelta(minutes=5), EscalationState.ACTIVE),  # overdue
        (now - timedelta(minutes=1), EscalationState.HELD),  # overdue
        (now - timedelta(seconds=10), EscalationState.ACTIVE),  # due, within the grace
        (now + timedelta(minutes=5), EscalationState.ACTIVE),  # not due
        (now - timedelta(hours=1), EscalationState.STOPPED),  # over
    ]:
        IncidentEscalation.objects.create(
            incident=make_incident(service, detected=now - timedelta(hours=2)),
            snapshot={},
            state=state,
            next_fire_at=due,
            started_at=now - timedelta(hours=2),
        )
    assert value(scrape(now), "pagerline_escalation_steps_overdue") == 2


def test_it_shows_rule_steps_and_messages_overdue(service, users, now, settings):
    """People's own rule steps and their messages, not only escalation steps: with beat or
    every worker gone, a page whose next contact never goes out shows here."""
    settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS = 30
    people = [users["responder"], users["manager"], users["viewer"], users["outsider"]]
    for user, due, state in zip(
        people,
        [
            now - timedelta(minutes=5),  # overdue
            now - timedelta(seconds=10),  # due, within the grace
            now + timedelta(minutes=5),  # not due
            now - timedelta(hours=1),  # done: over
        ],
        [PageState.ACTIVE, PageState.ACTIVE, PageState.ACTIVE, PageState.DONE],
        strict=True,
    ):
        PersonalPage.objects.create(
            incident=make_incident(service, detected=now - timedelta(hours=2)),
            user=user,
            urgency="high",
            reason="escalation",
            state=state,
            started_at=now - timedelta(hours=2),
            next_fire_at=due,
        )
    responder = users["responder"]
    make_contact_method(responder)
    late = make_page(responder, at=now - timedelta(minutes=2))  # nobody took it: overdue
    make_page(responder, at=now + timedelta(minutes=2))  # held (a rate limit): not yet due
    taken = make_page(responder, at=now - timedelta(minutes=3))
    Notification.objects.filter(pk=taken.pk).update(status="sending", claimed_at=now)
    families = scrape(now)
    assert value(families, "pagerline_notification_rule_steps_overdue") == 1
    assert value(families, "pagerline_notifications_overdue") == 1
    Notification.objects.filter(pk=late.pk).update(status="sent")
    assert value(scrape(now), "pagerline_notifications_overdue") == 0


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

    families = scrape(now)
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


def test_its_query_count_does_not_grow(client, team, integration, django_assert_max_num_queries):
    record, _ = integration
    service = record.service
    make_incident(service, detected=timezone.now() - timedelta(hours=1))
    accept(record, at=timezone.now())
    with django_assert_max_num_queries(11) as few:
        client.get("/metrics")
    for n in range(5):
        other = make_service(team, f"svc-{n}", f"Service {n}")
        make_incident(other, detected=timezone.now() - timedelta(hours=1))
        accept(record, at=timezone.now())
    drain.deliveries_claim(limit=2)  # some processing, some pending
    accept(record, at=timezone.now(), body="[]")
    drain.deliveries_drain()  # and some counted, one failed
    accept(record, at=timezone.now())
    drain.deliveries_claim(limit=1)
    accept(record, at=timezone.now())
    with django_assert_max_num_queries(len(few.captured_queries) + 1):  # both unfinished states
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


PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian package prometheus; CI has it)"
)


def promtool_check(text: bytes) -> None:
    result = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, (result.stdout + result.stderr).decode()


@needs_promtool
def test_promtool_accepts_the_real_output(client, integration, service, users, settings):
    record, _ = integration
    now = timezone.now()
    hour = timedelta(hours=1)
    make_incident(service, detected=now - 2 * hour, acked=now - hour, resolved=now)
    make_incident(service, detected=now - hour)
    accept(record, at=now - timedelta(seconds=3))
    accept(record, at=now, body="[]")
    drain.deliveries_drain()
    accept(record, at=now)  # a backlog
    send_email_to(settings, free_port())
    make_contact_method(users["responder"])
    sending.notification_send(notification_id=make_page(users["responder"], text="t").pk)
    response = client.get("/metrics")
    assert response.status_code == 200
    promtool_check(response.content)


@needs_promtool
def test_the_alert_rules_in_the_operations_guide_are_valid_and_name_real_metrics(client, tmp_path):
    """docs/operations.md suggests alert rules: promtool accepts them, and every pagerline_*
    series they use is one /metrics serves (a renamed metric would silence an alert)."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    section = guide.split("### Suggested alert rules", 1)[1]
    rules = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "rules.yml").write_text(rules)
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(tmp_path / "rules.yml")],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr).decode()
    served = client.get("/metrics").content.decode()
    named = set(re.findall(r"\b(pagerline_[a-z0-9_]+)", rules))
    assert named, "no pagerline metric in the rules"
    series = set(re.findall(r"^(pagerline_[a-z0-9_]+)[{ ]", served, flags=re.M))
    missing = named - series
    assert not missing, f"rules name metrics /metrics does not serve: {sorted(missing)}"


@pytest.mark.peer
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@needs_promtool
def test_every_web_process_serves_the_same_counters_and_they_survive_retention(
    integration, worker_env, make_worker, make_web
):
    """Real gunicorn processes and a real worker: webhooks to one web server, scrapes of
    another, retention in between; promtool checks what a real scrape returns."""
    import urllib.request

    _, token = integration
    make_worker()
    first, second = make_web("web-1"), make_web("web-2")

    def post(server, n):
        for i in range(n):
            body = json.dumps(am_payload(am_alert(fingerprint=f"{server.port}-{i}"))).encode()
            request = urllib.request.Request(
                f"{server.url}/hooks/alertmanager/{token}",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 202

    def get(server) -> bytes:
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:
            return response.read()

    def settled(server, n) -> dict[tuple, float]:
        deadline = time.monotonic() + 30
        while True:
            found = totals(parse(get(server).decode()))
            key = ("pagerline_alert_deliveries_received_total", (("source", "alertmanager"),))
            if found[key] >= n or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    post(first, 5)
    on_second = settled(second, 5)
    assert on_second == totals(parse(get(first).decode()))
    promtool_check(get(second))
    AlertDelivery.objects.update(received_at=F("received_at") - timedelta(days=400))
    assert retention.deliveries_purge(pause=0).deleted == 5
    post(second, 3)
    later = settled(first, 8)
    assert all(later[key] >= n for key, n in on_second.items())
    count = ("pagerline_ingest_latency_seconds_count", ())
    assert later[count] == 8


@pytest.mark.peer
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_without_its_database_it_answers_503_and_says_why(worker_env, make_web):
    import urllib.error
    import urllib.request

    # A real server whose PostgreSQL is unreachable: nobody listens on that port.
    worker_env["DATABASE_URL"] = f"postgres://root@127.0.0.1:{free_port()}/nowhere"
    server = make_web("web-no-db", workers=1)
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(f"{server.url}/metrics", timeout=60)
    assert failed.value.code == 503
    assert "database unreachable" in failed.value.read().decode()
