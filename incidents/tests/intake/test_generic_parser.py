from datetime import UTC, datetime

import pytest

from incidents.alerts import AlertStatus, Link, PayloadError, Severity
from incidents.intake.sources import generic
from incidents.intake.sources.common import stable_fingerprint
from tests.support import fixture_json

MAPPING = {
    "mapping": {
        "title": "data.alert.name",
        "dedup_key": "data.id",
        "status": "data.state",
        "severity": "data.alert.priority",
        "source": "items.0.name",
        "started_at": "data.triggered_at",
        "details": "data.context",
    },
    "status_map": {"ok": "resolved", "alerting": "firing"},
}


def test_it_parses_the_default_shape():
    (event,) = generic.parse(fixture_json("generic/firing.json"))
    assert event.source == "generic"
    assert event.incident_key == event.fingerprint == "invoice-export/2026-11-26"
    assert event.status is AlertStatus.FIRING
    assert event.title == "Nightly invoice export failed"
    assert event.severity is Severity.WARNING
    assert event.labels == {"source": "billing-cron", "severity": "warning"}
    assert event.annotations == {
        "exit_code": "3",
        "host": "batch-2",
        "last_lines": '["connecting to sftp.example.com", "permission denied"]',
    }
    assert event.starts_at == datetime(2026, 11, 26, 2, 0, 7, tzinfo=UTC)
    assert event.links == (Link("https://ci.example.com/jobs/invoice-export/8812", "Job log"),)


def test_it_parses_a_minimal_resolution_and_derives_its_key():
    (event,) = generic.parse(fixture_json("generic/resolved.json"))
    assert event.status is AlertStatus.RESOLVED
    assert event.incident_key == stable_fingerprint("Nightly invoice export failed", "billing-cron")
    assert event.severity is Severity.ERROR
    assert event.annotations == {}
    assert event.starts_at is None
    assert event.links == ()


def test_it_parses_a_mapped_shape():
    (event,) = generic.parse(fixture_json("generic/mapped.json"), MAPPING)
    assert event.incident_key == event.fingerprint == "48213"  # a numeric id becomes text
    assert event.status is AlertStatus.FIRING  # "alerting" through status_map
    assert event.title == "Checkout error budget burn"
    assert event.severity is Severity.CRITICAL  # P1
    assert event.labels == {"source": "checkout-api", "severity": "P1"}
    assert event.annotations == {"burn_rate": "14.2", "window": "1h"}
    assert event.starts_at == datetime(2026, 11, 26, 2, 14, 31, tzinfo=UTC)  # Unix seconds


def test_it_translates_the_senders_status_words():
    payload = fixture_json("generic/mapped.json")
    payload["data"]["state"] = "ok"
    assert generic.parse(payload, MAPPING)[0].status is AlertStatus.RESOLVED


def test_it_reads_unmapped_fields_at_their_default_place():
    payload = {"data": {"alert": {"name": "Queue stuck"}}, "status": "RESOLVED"}
    (event,) = generic.parse(payload, {"mapping": {"title": "data.alert.name"}})
    assert event.title == "Queue stuck"
    assert event.status is AlertStatus.RESOLVED  # the standard words in any case


def test_it_takes_milliseconds_and_status_words_that_are_not_strings():
    payload = {"title": "Disk", "started_at": 1795659271500, "up": True}
    options = {"mapping": {"status": "up"}, "status_map": {"true": "resolved"}}
    (event,) = generic.parse(payload, options)
    assert event.starts_at == datetime(2026, 11, 26, 2, 14, 31, 500000, tzinfo=UTC)
    assert event.status is AlertStatus.RESOLVED


def test_it_reads_a_list_at_the_top():
    (event,) = generic.parse([{"name": "Replica lag"}], {"mapping": {"title": "0.name"}})
    assert event.title == "Replica lag"


@pytest.mark.parametrize(
    ("payload", "options", "error"),
    [
        ({}, None, "title: is required"),
        ({"title": "  "}, None, "title: is required"),
        ({"title": None}, None, "title: is required"),
        ({"title": ["x"]}, None, "title: expected a string or a number"),
        ({"title": "t", "dedup_key": {}}, None, "dedup_key: expected a string or a number"),
        ({"title": "t", "severity": 1}, None, "severity: expected a string"),
        ({"title": "t", "source": True}, None, "source: expected a string or a number"),
        ({"title": "t", "status": "ok"}, None, "status: 'ok' is not 'firing' or 'resolved'"),
        ({"title": "t", "status": ["firing"]}, None, "status: expected a string"),
        ({"title": "t", "started_at": "today"}, None, "started_at: 'today' is not an RFC"),
        ({"title": "t", "started_at": 1e300}, None, "started_at: 1e+300 is not a valid Unix"),
        ({"title": "t", "details": "x"}, None, "details: expected an object"),
        ({"title": "t", "links": {}}, None, "links: expected a list"),
        ({"title": "t", "links": ["x"]}, None, "links[0]: expected an object"),
        ({"title": "t", "links": [{"text": "a"}]}, None, "links[0].href: expected a non-empty"),
        ({"title": "t", "links": [{"href": "h", "text": 1}]}, None, "links[0].text: expected a"),
        ("title", None, "body: expected a JSON object"),
        ({"data": {}}, MAPPING, "data.alert.name (mapped to title): is required"),
        ({"data": {"alert": "x"}}, MAPPING, "data.alert.name (mapped to title): is required"),
        (
            {"data": {"alert": {"name": "n"}, "state": "pending"}},
            MAPPING,
            "data.state (mapped to status): 'pending' is not 'firing' or 'resolved'; translate",
        ),
        (
            {"data": {"alert": {"name": "n"}, "triggered_at": "soon"}},
            MAPPING,
            "data.triggered_at (mapped to started_at): 'soon' is not an RFC 3339",
        ),
        (
            {"data": {"alert": {"name": "n"}, "context": [1]}},
            MAPPING,
            "data.context (mapped to details): expected an object",
        ),
        ({"items": []}, {"mapping": {"title": "items.0.name"}}, "items.0.name (mapped to title)"),
        ({"title": "t"}, {"mapping": ["title"]}, "options.mapping: expected an object"),
        ({"title": "t"}, {"mapping": {"name": "x"}}, "options.mapping.name: unknown field"),
        ({"title": "t"}, {"mapping": {"title": ""}}, "options.mapping.title: expected a dotted"),
        ({"title": "t"}, {"status_map": {"ok": "fine"}}, "options.status_map.ok: expected"),
        ({"title": "t"}, {"status_map": "ok"}, "options.status_map: expected an object"),
    ],
)
def test_it_names_each_bad_field(payload, options, error):
    errors = generic.validate(payload, options)
    assert any(message.startswith(error) for message in errors), errors
    with pytest.raises(PayloadError):
        generic.parse(payload, options)
