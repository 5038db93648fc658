"""`provision import --from opsgenie` against a local replay of Opsgenie's REST API
(fixtures/opsgenie/api.json): pagination by paging.next, 429, the mapping, and a weekly
rotation with an override across the start of DST in Berlin."""

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


# Written by hand from Opsgenie's schedule guide: a weekly rotation of length 1 whose
# start date (Monday 2027-03-01 09:00 Berlin) "becomes the handover time", participants in
# their order (bo, ana); an override puts cy on call over the whole schedule for its span.
# Opsgenie does not document DST: read as the handover staying at 09:00 Berlin, so after
# 2027-03-28 (CET -> CEST) it is 07:00 UTC instead of 08:00.
WEEKLY_EIGHT_WEEKS = [
    (z("2027-03-01T08:00"), z("2027-03-08T08:00"), "bo"),
    (z("2027-03-08T08:00"), z("2027-03-15T08:00"), "ana"),
    (z("2027-03-15T08:00"), z("2027-03-22T08:00"), "bo"),
    (z("2027-03-22T08:00"), z("2027-03-29T07:00"), "ana"),  # a week of 167 hours
    (z("2027-03-29T07:00"), z("2027-03-30T07:00"), "bo"),
    (z("2027-03-30T07:00"), z("2027-03-31T07:00"), "cy"),  # the override
    (z("2027-03-31T07:00"), z("2027-04-05T07:00"), "bo"),
    (z("2027-04-05T07:00"), z("2027-04-12T07:00"), "ana"),
    (z("2027-04-12T07:00"), z("2027-04-19T07:00"), "bo"),
    (z("2027-04-19T07:00"), z("2027-04-26T07:00"), "ana"),
]


@pytest.fixture
def opsgenie():
    replay = Replay("opsgenie/api.json", throttle=("/v2/users?offset=0",)).start()
    yield replay
    replay.stop()


def test_it_follows_paging_next_waits_out_a_429_and_sends_the_genie_key(opsgenie, tmp_path):
    run_import("opsgenie", opsgenie.url, tmp_path)
    paths = [r["path"] for r in opsgenie.requests]
    assert "/v2/users?offset=2&order=desc&sort=username" in paths
    assert was_throttled_then_served(opsgenie.requests, "/v2/users?offset=0")
    assert {r["headers"]["Authorization"] for r in opsgenie.requests} == {"GenieKey s3cret"}


def test_the_imported_rotation_and_override_give_the_documented_shifts(people, opsgenie, tmp_path):
    path, report = run_import("opsgenie", opsgenie.url, tmp_path)
    assert "+ create schedule payments/payments_schedule" in provision("apply", str(path), "--plan")
    provision("apply", str(path), "--apply")
    shifts = shifts_of(
        "payments", "payments_schedule", z("2027-03-01T08:00"), z("2027-04-26T07:00")
    )
    assert shifts == WEEKLY_EIGHT_WEEKS
    assert "Opsgenie does not document how a rotation crosses a DST change" in report
    assert provision("apply", str(path), "--plan").strip() == "No changes."


def test_the_document_and_the_report(opsgenie, tmp_path):
    path, report = run_import("opsgenie", opsgenie.url, tmp_path)
    team = document.parse_text(path.read_text())["teams"][0]
    assert {m["email"]: m["role"] for m in team["members"]} == {
        "ana@example.com": "manager",  # the team's admin
        "bo@example.com": "responder",
        # A Stakeholder, not in the team, but on call by an override: a responder of it.
        "cy@example.com": "responder",
    }
    primary = next(s for s in team["schedules"] if s["name"] == "payments_schedule")
    assert primary["layers"][0]["handoff"] == "2027-03-01T09:00"  # 08:00Z in Berlin (CET)
    assert primary["overrides"] == [
        {
            "user": "cy@example.com",
            "start": "2027-03-30T07:00:00Z",
            "end": "2027-03-31T07:00:00Z",
            "replaces": None,
        }
    ]  # the override that ended in 2025 is left out
    office = next(s for s in team["schedules"] if s["name"] == "office_hours")
    assert [layer["name"] for layer in office["layers"]] == ["Office"]
    # Monday 09:00-18:00, and Friday 22:00 to Saturday 06:00 cut at midnight.
    restrictions = office["layers"][0]["restrictions"]
    assert sorted(restrictions, key=lambda r: (r["days"], r["start"])) == [
        {"days": [0], "start": "09:00", "end": "18:00"},
        {"days": [4], "start": "22:00", "end": "00:00"},
        {"days": [5], "start": "00:00", "end": "06:00"},
    ]
    assert "rotation 'Gaps': participants of type none" in report
    policy = team["escalation_policies"][0]
    # Opsgenie's delays count from the alert (0, 10 min); Pagerline's from the step before.
    assert policy["steps"] == [
        {"delay_seconds": 0, "targets": [{"schedule": "payments_schedule"}]},
        {"delay_seconds": 600, "targets": [{"user": "ana@example.com"}]},
    ]
    assert "notify type 'next'" in report and "recipient team payments" in report
    services = {s["name"]: s for s in team["services"]}
    assert services["Prometheus"]["integrations"][0]["source"] == "alertmanager"
    # An API integration's senders move to Pagerline's Opsgenie-compatible API unchanged.
    assert services["Payments API"]["integrations"][0]["source"] == "opsgenie"
    assert services["Prometheus"]["escalation_policy"] == "payments_escalation"
    assert "integration 'Mail': type 'Email' has no Pagerline source" in report
