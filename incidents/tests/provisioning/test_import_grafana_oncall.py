"""`provision import --from grafana-oncall` against a local replay of Grafana OnCall's HTTP
API (fixtures/grafana-oncall/api.json): pagination by `next`, 429, the mapping, and a weekly
rolling_users shift across the start of DST in New York."""

from __future__ import annotations

import pytest

from incidents.provisioning import document
from incidents.tests.provisioning.conftest import (
    provision,
    run_import,
    shifts_of,
    was_throttled_then_served,
    z,
)
from incidents.tests.provisioning.replay import Replay

pytestmark = pytest.mark.django_db


# Written by hand from OnCall's on_call_shifts reference: a rolling_users shift starting
# Monday 2027-02-22 10:00 in the schedule's zone (America/New_York), weekly, interval 1,
# lasting 604800 s, each occurrence to the next group, starting from index 1 (bo, cy, ana).
# OnCall does not document DST: read as recurring at 10:00 New York, so after 2027-03-14
# (EST -> EDT) the handoff is 14:00 UTC instead of 15:00.
WEEKLY_EIGHT_WEEKS = [
    (z("2027-02-22T15:00"), z("2027-03-01T15:00"), "bo"),
    (z("2027-03-01T15:00"), z("2027-03-08T15:00"), "cy"),
    (z("2027-03-08T15:00"), z("2027-03-15T14:00"), "ana"),  # a week of 167 hours
    (z("2027-03-15T14:00"), z("2027-03-22T14:00"), "bo"),
    (z("2027-03-22T14:00"), z("2027-03-29T14:00"), "cy"),
    (z("2027-03-29T14:00"), z("2027-04-05T14:00"), "ana"),
    (z("2027-04-05T14:00"), z("2027-04-12T14:00"), "bo"),
    (z("2027-04-12T14:00"), z("2027-04-19T14:00"), "cy"),
]


@pytest.fixture
def oncall():
    replay = Replay("grafana-oncall/api.json", throttle=("/api/v1/users/",)).start()
    yield replay
    replay.stop()


def test_it_follows_next_waits_out_a_429_and_sends_the_token(oncall, tmp_path):
    run_import("grafana-oncall", oncall.url, tmp_path)
    assert "/api/v1/users/?page=2" in [r["path"] for r in oncall.requests]
    assert was_throttled_then_served(oncall.requests, "/api/v1/users/")
    assert {r["headers"]["Authorization"] for r in oncall.requests} == {"s3cret"}


def test_the_imported_rolling_shift_gives_the_documented_shifts(people, oncall, tmp_path):
    path, report = run_import("grafana-oncall", oncall.url, tmp_path)
    assert "+ create schedule payments/Primary" in provision("apply", str(path), "--plan")
    provision("apply", str(path), "--apply")
    start, end = z("2027-02-22T15:00"), z("2027-04-19T14:00")
    assert shifts_of("payments", "Primary", start, end) == WEEKLY_EIGHT_WEEKS
    assert "Grafana OnCall does not document how a shift's recurrence crosses a DST" in report
    assert provision("apply", str(path), "--plan").strip() == "No changes."


def test_the_document_and_the_report(oncall, tmp_path):
    path, report = run_import("grafana-oncall", oncall.url, tmp_path)
    team = document.parse_text(path.read_text())["teams"][0]
    assert {m["email"]: m["role"] for m in team["members"]} == {
        "ana@example.com": "manager",  # OnCall admin
        "bo@example.com": "responder",  # editor; the email lower-cased
        "cy@example.com": "responder",  # a viewer, but in a rotation
    }
    support = next(s for s in team["schedules"] if s["name"] == "Weekend support")
    assert support["layers"] == [
        {"name": "Weekend days", "participants": ["ana@example.com"], "unit": "weeks",
         "every": 1, "handoff": "2027-02-20T09:00", "end": None,
         "restrictions": [{"days": [5, 6], "start": "09:00", "end": "17:00"}]}
    ]  # fmt: skip
    # The one-off shift, 09:00-12:00 New York (EST), is an override.
    assert support["overrides"] == [
        {"user": "bo@example.com", "start": "2027-03-06T14:00:00Z",
         "end": "2027-03-06T17:00:00Z", "replaces": None}
    ]  # fmt: skip
    assert "shift 'Weekday pairs': by_day with a rotation of several people" in report
    assert "schedule 'Legacy': an iCal schedule" in report
    assert team["escalation_policies"] == [
        {"name": "Payments chain", "repeat": 5, "fallback_user": None,
         "steps": [{"delay_seconds": 0, "targets": [{"schedule": "Primary"}]},
                   {"delay_seconds": 300, "targets": [{"user": "ana@example.com"}]}]}
    ]  # fmt: skip
    assert "step 3 (notify_whole_channel): no Pagerline equivalent" in report
    assert [(s["name"], s["escalation_policy"]) for s in team["services"]] == [
        ("Prometheus", "Payments chain")
    ]
    assert "integration 'Zabbix': type 'zabbix' has no Pagerline source" in report
