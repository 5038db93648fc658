"""`provision import --from pagerduty` against a local replay of PagerDuty's REST API
(fixtures/pagerduty/api.json): pagination, 429, the mapping, and a weekly rotation across
the end of DST in New York computed by Pagerline as PagerDuty documents it."""

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


# Written by hand from PagerDuty's definition: a turn is rotation_turn_length_seconds
# (604800) of elapsed time from rotation_virtual_start, 2026-10-05T09:00-04:00 (13:00 UTC),
# users in their listed order. New York leaves DST on 2026-11-01, so from then on the handoff
# is 08:00 local: still 13:00 UTC every Monday.
PRIMARY_EIGHT_WEEKS = [
    (z("2026-10-05T13:00"), z("2026-10-12T13:00"), "ana"),
    (z("2026-10-12T13:00"), z("2026-10-19T13:00"), "bo"),
    (z("2026-10-19T13:00"), z("2026-10-26T13:00"), "cy"),
    (z("2026-10-26T13:00"), z("2026-11-02T13:00"), "ana"),  # DST ends 1 Nov, 02:00 EDT
    (z("2026-11-02T13:00"), z("2026-11-09T13:00"), "bo"),  # 08:00 EST
    (z("2026-11-09T13:00"), z("2026-11-16T13:00"), "cy"),
    (z("2026-11-16T13:00"), z("2026-11-23T13:00"), "ana"),
    (z("2026-11-23T13:00"), z("2026-11-30T13:00"), "bo"),
]


@pytest.fixture
def pagerduty():
    replay = Replay("pagerduty/api.json", throttle=("/users?offset=0",)).start()
    yield replay
    replay.stop()


def test_it_reads_every_page_waits_out_a_429_and_sends_the_token(pagerduty, tmp_path):
    run_import("pagerduty", pagerduty.url, tmp_path)
    paths = [r["path"] for r in pagerduty.requests]
    assert "/users?offset=2" in paths  # the second page of users
    assert was_throttled_then_served(pagerduty.requests, "/users?offset=0")
    assert {r["headers"]["Authorization"] for r in pagerduty.requests} == {"Token token=s3cret"}
    assert all(r["status"] in (200, 429) for r in pagerduty.requests)


def test_the_imported_schedule_hands_off_as_pagerduty_does_across_dst(people, pagerduty, tmp_path):
    path, report = run_import("pagerduty", pagerduty.url, tmp_path)
    plan = provision("apply", str(path), "--plan")
    assert "+ create schedule payments/Primary" in plan
    provision("apply", str(path), "--apply")
    start, end = z("2026-10-05T13:00"), z("2026-11-30T13:00")
    assert shifts_of("payments", "Primary", start, end) == PRIMARY_EIGHT_WEEKS
    # Exact only because the schedule is written in UTC; the report says why.
    assert "schedule 'Primary': written in UTC instead of America/New_York" in report
    assert provision("apply", str(path), "--plan").strip() == "No changes."


def test_the_document_maps_users_by_email_and_the_report_names_what_was_left_out(
    pagerduty, tmp_path
):
    path, report = run_import("pagerduty", pagerduty.url, tmp_path)
    team = document.parse_text(path.read_text())["teams"][0]
    assert team["members"] == [
        {"email": "ana@example.com", "role": "manager"},  # PagerDuty admin; email lower-cased
        {"email": "bo@example.com", "role": "responder"},
        {"email": "cy@example.com", "role": "responder"},
    ]
    policy = team["escalation_policies"][0]
    # PagerDuty's rule 1 waits 30 minutes before escalating to rule 2.
    assert [s["delay_seconds"] for s in policy["steps"]] == [0, 1800]
    assert policy["repeat"] == 2
    assert team["services"][0]["integrations"] == [
        {"name": "Alertmanager", "source": "pagerduty", "enabled": True}
    ]
    assert "integration 'Email': type generic_email_inbound_integration has no Pagerline" in report
    assert "layer 'Odd': a turn of 5400 s is not a whole number of hours" in report
    assert "schedule 'Business hours': INEXACT across DST" in report


def test_a_restricted_layer_keeps_its_zone_and_its_weekly_window(pagerduty, tmp_path):
    path, _ = run_import("pagerduty", pagerduty.url, tmp_path)
    team = document.parse_text(path.read_text())["teams"][0]
    office = next(s for s in team["schedules"] if s["name"] == "Business hours")
    assert office["time_zone"] == "America/New_York"
    # Monday 09:00 for 104 hours: to Friday 17:00, cut at midnights.
    restrictions = office["layers"][0]["restrictions"]
    windows = {(tuple(r["days"]), r["start"], r["end"]) for r in restrictions}
    assert windows == {
        ((0,), "09:00", "00:00"),
        ((1, 2, 3), "00:00", "12:00"),
        ((1, 2, 3), "12:00", "00:00"),
        ((4,), "00:00", "17:00"),
    }


def test_an_unreachable_api_is_a_clear_error(tmp_path):
    from django.core.management.base import CommandError

    from tests.peers import free_port

    with pytest.raises(
        CommandError, match=r"import from pagerduty failed: GET http://127\.0\.0\.1"
    ):
        run_import("pagerduty", f"http://127.0.0.1:{free_port()}", tmp_path)


def test_a_restricted_layer_is_an_hour_off_pagerduty_after_dst_as_the_report_says(
    people, pagerduty, tmp_path
):
    """Pagerline cannot write "every 86400 s" in a zone with DST when the layer also has
    wall-clock restrictions there: this pins the known, reported difference."""
    path, report = run_import("pagerduty", pagerduty.url, tmp_path)
    provision("apply", str(path), "--apply")
    # PagerDuty, by hand: daily turns of 86400 s from 2026-10-05 13:00 UTC (bo, cy, bo...);
    # turn 29 (cy) starts 2026-11-03 13:00 UTC, which is 08:00 EST after DST ended.
    pagerduty_says = [
        (z("2026-11-03T12:00"), z("2026-11-03T13:00"), "bo"),
        (z("2026-11-03T13:00"), z("2026-11-03T16:00"), "cy"),
    ]
    # Pagerline keeps the 09:00 New York handoff: 14:00 UTC in November.
    pagerline_gives = [
        (z("2026-11-03T12:00"), z("2026-11-03T14:00"), "bo"),
        (z("2026-11-03T14:00"), z("2026-11-03T16:00"), "cy"),
    ]
    shifts = shifts_of("payments", "Business hours", z("2026-11-03T12:00"), z("2026-11-03T16:00"))
    assert shifts == pagerline_gives != pagerduty_says
    assert "schedule 'Business hours': INEXACT across DST" in report
