"""The importers' pure parts, without a network: the vendors' JSON in, a document that
`document.check` accepts and a report out; weekly windows as restrictions; the HTTP client
gives up after a bounded number of 429s."""

from __future__ import annotations

import json

import pytest

from incidents.provisioning import document
from incidents.provisioning.importers import grafana_oncall, opsgenie, pagerduty
from incidents.provisioning.importers.common import (
    Builder,
    Report,
    users_and_teams,
    windows_to_restrictions,
)
from incidents.provisioning.importers.http import MAX_RETRIES, Client, ImportHttpError
from incidents.tests.provisioning.replay import FIXTURES, Replay


def _responses(vendor: str) -> dict:
    return json.loads((FIXTURES / vendor / "api.json").read_text())["responses"]


def _pagerduty_raw() -> dict:
    r = _responses("pagerduty")
    return {
        "users": r["/users?offset=0"]["users"] + r["/users?offset=2"]["users"],
        "teams": r["/teams?offset=0"]["teams"],
        "schedules": [r["/schedules/PSCHED1"]["schedule"], r["/schedules/PSCHED2"]["schedule"]],
        "escalation_policies": r["/escalation_policies?offset=0"]["escalation_policies"],
        "services": r["/services?include[]=integrations&offset=0"]["services"],
    }


def test_pagerduty_json_maps_to_a_valid_document_without_a_network():
    found, report = pagerduty.to_document(_pagerduty_raw())
    document.check(found)
    assert [t["slug"] for t in found["teams"]] == ["payments"]
    assert "3 user(s), matched by email" in report.mapped


def test_a_pagerduty_user_that_is_not_among_the_users_read_is_reported():
    raw = _pagerduty_raw()
    raw["users"] = [u for u in raw["users"] if u["id"] != "PCY0003"]
    found, report = pagerduty.to_document(raw)
    document.check(found)
    assert any("user PCY0003 is not among the users read" in line for line in report.skipped)
    primary = next(s for s in found["teams"][0]["schedules"] if s["name"] == "Primary")
    assert primary["layers"][0]["participants"] == ["ana@example.com", "bo@example.com"]


def test_a_pagerduty_schedule_in_a_zone_without_dst_keeps_its_zone():
    raw = _pagerduty_raw()
    raw["schedules"][0]["time_zone"] = "Asia/Tokyo"
    found, _ = pagerduty.to_document(raw)
    primary = next(s for s in found["teams"][0]["schedules"] if s["name"] == "Primary")
    assert primary["time_zone"] == "Asia/Tokyo"
    assert primary["layers"][0]["handoff"] == "2026-10-05T22:00"  # 13:00Z in Tokyo


def test_an_opsgenie_rotation_of_teams_is_reported_not_guessed():
    r = _responses("opsgenie")
    schedules = r["/v2/schedules?expand=rotation&offset=0"]["data"]
    schedules[0]["rotations"][0]["participants"].append({"type": "team", "id": "t-pay"})
    raw = {
        "users": r["/v2/users?offset=0"]["data"],
        "teams": [r["/v2/teams/t-pay"]["data"]],
        "schedules": schedules[:1],
        "overrides": {},
        "escalations": [],
        "integrations": [],
    }
    found, report = opsgenie.to_document(raw)
    document.check(found)
    assert found["teams"][0]["schedules"] == []
    assert any("participants of type team" in line for line in report.skipped)


def test_an_oncall_shift_in_another_zone_than_its_siblings_is_reported():
    r = _responses("grafana-oncall")
    shifts = r["/api/v1/on_call_shifts/"]["results"]
    shifts[1]["time_zone"] = "Europe/Berlin"
    raw = {name: r[f"/api/v1/{name}/"]["results"] for name in grafana_oncall.ENDPOINTS}
    raw["users"] += r["/api/v1/users/?page=2"]["results"]
    raw["on_call_shifts"] = shifts
    found, report = grafana_oncall.to_document(raw)
    document.check(found)
    assert any("'Weekend support': its shifts use several time zones" in s for s in report.skipped)


def test_users_and_teams_match_by_email_and_take_each_vendors_roles():
    """The part the three importers share (common.users_and_teams), with what differs
    between them passed in: how a user's email and role are read, who is in which team."""
    users = [
        {"id": "u1", "mail": " Ana@Example.COM ", "role": "admin"},
        {"id": "u2", "mail": "bo@example.com", "role": "observer"},
        {"id": "u3", "mail": "", "name": "Cy"},
    ]
    builder = Builder(Report("Vendor"))
    found = users_and_teams(
        builder,
        users=users,
        teams=[{"id": "t1", "name": "Payments"}],
        email_of=lambda user: user["mail"] or None,
        role_of=lambda user: {"admin": "manager"}.get(user.get("role"), "viewer"),
        no_email=lambda user: f"user {user['name']!r}: no email",
        memberships=[
            ("u1", "t1", None),
            ("u2", "t1", "responder"),  # a team's own role for its member
            ("u3", "t1", None),  # not matched: passed over
            ("u1", "t-not-read", None),
        ],
    )
    assert found.emails == {"u1": "ana@example.com", "u2": "bo@example.com"}
    assert builder.teams["t1"]["members"] == [
        {"email": "ana@example.com", "role": "manager"},
        {"email": "bo@example.com", "role": "responder"},
    ]
    assert builder.report.mapped == ["2 user(s), matched by email", "team 'Payments'"]
    assert builder.report.skipped == ["user 'Cy': no email"]

    builder.team("t2", "Search")
    assert found.member("u2", "t2", "schedule 'Search'") == "bo@example.com"
    assert builder.teams["t2"]["members"] == [{"email": "bo@example.com", "role": "responder"}]
    assert found.member("u9", "t2", "schedule 'Search'", label="nobody@example.com") is None
    assert builder.report.skipped[-1] == (
        "schedule 'Search': user nobody@example.com is not among the users read"
    )


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        # Daily 08:00-18:30 (Opsgenie time-of-day).
        ([(d, 480, 630) for d in range(7)],
         [{"days": list(range(7)), "start": "08:00", "end": "18:30"}]),
        # Friday 22:00 for 8 hours: across midnight.
        ([(4, 1320, 480)], [{"days": [5], "start": "00:00", "end": "06:00"},
                            {"days": [4], "start": "22:00", "end": "00:00"}]),
        # Saturday 00:00 for 48 hours: whole days are two halves.
        ([(5, 0, 2880)], [{"days": [5, 6], "start": "00:00", "end": "12:00"},
                          {"days": [5, 6], "start": "12:00", "end": "00:00"}]),
        # A whole week is no restriction at all.
        ([(0, 540, 10080)], []),
    ],
)  # fmt: skip
def test_weekly_windows_become_restrictions_of_at_most_a_day(windows, expected):
    assert windows_to_restrictions(windows) == expected


def test_the_client_gives_up_after_a_bounded_number_of_429s():
    replay = Replay("pagerduty/api.json", always_throttle=("/teams?offset=0",)).start()
    waits = []
    try:
        client = Client(replay.url, {"Authorization": "Token token=x"}, sleep=waits.append)
        with pytest.raises(ImportHttpError, match=r"still rate limited \(HTTP 429\)"):
            client.offset_pages("/teams", "teams")
    finally:
        replay.stop()
    assert waits == [1.0] * MAX_RETRIES  # as Retry-After asked, MAX_RETRIES times, then no more
    assert len(replay.requests) == MAX_RETRIES + 1


def test_an_error_answer_names_the_url_and_status():
    replay = Replay("pagerduty/api.json").start()
    try:
        with pytest.raises(ImportHttpError, match=r"/nothing: HTTP 404"):
            Client(replay.url, {}).get("/nothing")
    finally:
        replay.stop()
