"""The projection is pure: events in, state out. No database here."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents.models import EventKind
from incidents.timeline.projection import FIELDS, IncidentState, apply, replay

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@dataclass
class Event:
    seq: int
    kind: str
    at: datetime
    data: dict = field(default_factory=dict)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def opened(**data) -> list[Event]:
    base = {"title": "Checkout down", "severity": "critical", "dedup_key": "k", "source": "am"}
    return [Event(1, "triggered", T0, {**base, **data})]


def then(events: list[Event], kind: str, at_minute: float, **data) -> list[Event]:
    return [*events, Event(len(events) + 1, kind, minutes(at_minute), data)]


def test_it_opens_from_the_triggered_event():
    state = replay(opened())
    assert state.status == "triggered"
    assert (state.title, state.severity, state.dedup_key) == ("Checkout down", "critical", "k")
    assert state.detected_at == T0
    assert state.impact_started_at == T0
    assert state.last_seq == 1 and state.updated_at == T0
    assert state.assignee_id is None and state.description == ""


def test_a_manual_incident_carries_its_start_and_description():
    state = replay(opened(started_at=minutes(-20).isoformat(), description="*Card* payments fail"))
    assert state.source_started_at == minutes(-20)
    assert state.impact_started_at == minutes(-20)
    assert state.description == "*Card* payments fail"


def test_the_earliest_alert_start_is_the_impact_start():
    events = then(opened(), "alert_fired", 0, starts_at=minutes(-5).isoformat())
    events = then(events, "alert_fired", 1, starts_at=minutes(-9).isoformat())
    events = then(events, "alert_fired", 2, starts_at=minutes(-2).isoformat())
    state = replay(events)
    assert state.source_started_at == minutes(-9)
    assert state.impact_started_at == minutes(-9)


def test_an_alert_without_a_start_changes_nothing_but_the_sequence():
    before = replay(opened())
    after = replay(then(opened(), "alert_fired", 1, starts_at=None))
    assert after.source_started_at is None
    assert after.last_seq == 2 and after.updated_at == minutes(1)
    assert {n: getattr(after, n) for n in FIELDS if n not in {"last_seq", "updated_at"}} == {
        n: getattr(before, n) for n in FIELDS if n not in {"last_seq", "updated_at"}
    }


def test_acknowledging_keeps_the_first_time():
    events = then(opened(), "acknowledged", 2)
    state = replay(events)
    assert state.status == "acknowledged" and state.acknowledged_at == minutes(2)


def test_withdrawing_an_acknowledgement_clears_it():
    events = then(then(opened(), "acknowledged", 2), "unacknowledged", 3)
    state = replay(events)
    assert state.status == "triggered" and state.acknowledged_at is None
    state = replay(then(events, "acknowledged", 7))
    assert state.acknowledged_at == minutes(7)


def test_resolving_and_reopening():
    events = then(then(opened(), "acknowledged", 2), "resolved", 10, reason="fixed")
    resolved = replay(events)
    assert resolved.status == "resolved" and resolved.resolved_at == minutes(10)
    reopened = replay(then(events, "reopened", 12, reason="back"))
    assert reopened.status == "triggered"
    assert reopened.resolved_at is None
    # MTTA counts the first response: reopening does not forget it.
    assert reopened.acknowledged_at == minutes(2)
    again = replay(then(then(events, "reopened", 12), "acknowledged", 13))
    assert again.status == "acknowledged" and again.acknowledged_at == minutes(2)


def test_severity_changes():
    state = replay(then(opened(), "severity_changed", 1, **{"from": "critical", "to": "warning"}))
    assert state.severity == "warning"


def test_assigning_and_unassigning():
    events = then(opened(), "assigned", 1, assignee_id=7, assignee="ana", previous_id=None)
    assert replay(events).assignee_id == 7
    events = then(events, "assigned", 2, assignee_id=9, assignee="bo", previous_id=7)
    assert replay(events).assignee_id == 9
    events = then(events, "assigned", 3, assignee_id=None, assignee="", previous_id=9)
    assert replay(events).assignee_id is None


def test_a_corrected_impact_start_wins_over_sources_and_detection():
    events = then(opened(), "alert_fired", 0, starts_at=minutes(-5).isoformat())
    events = then(
        events, "impact_start_corrected", 30, impact_started_at=minutes(-40).isoformat(), reason="x"
    )
    state = replay(events)
    assert state.impact_corrected_at == minutes(-40)
    assert state.impact_started_at == minutes(-40)
    # An earlier alert arriving later does not override the responder's correction.
    state = replay(then(events, "alert_fired", 31, starts_at=minutes(-60).isoformat()))
    assert state.source_started_at == minutes(-60)
    assert state.impact_started_at == minutes(-40)


def test_a_correction_may_put_the_impact_after_detection():
    events = then(
        opened(), "impact_start_corrected", 5, impact_started_at=minutes(3).isoformat(), reason="x"
    )
    assert replay(events).impact_started_at == minutes(3)


# The kinds whose projection is tested above; every other kind only records.
STATE_CHANGING = {
    "triggered", "alert_fired", "acknowledged", "unacknowledged", "resolved", "reopened",
    "severity_changed", "assigned", "impact_start_corrected",
}  # fmt: skip
SAMPLE_DATA = {
    "alert_resolved": {"fingerprint": "a", "title": "t", "ends_at": None},
    "note": {"text": "looking"},
    "sender_truncated": {"count": 3},
    "drill_attached": {"drill_id": 1, "drill_name": "d", "automatic": True},
}


@pytest.mark.parametrize(
    "kind", [*sorted(set(EventKind.values) - STATE_CHANGING), "a_kind_nobody_knows_yet"]
)
def test_kinds_that_only_record_leave_the_state_alone(kind):
    before = replay(then(opened(), "acknowledged", 1))
    after = apply(before, Event(3, kind, minutes(5), SAMPLE_DATA.get(kind, {"x": 1})))
    unchanged = {name: getattr(before, name) for name in FIELDS}
    assert after == IncidentState(**{**unchanged, "last_seq": 3, "updated_at": minutes(5)})


def test_updated_at_never_moves_back_for_a_backdated_event():
    events = then(opened(), "acknowledged", 10)
    state = apply(replay(events), Event(3, "note", minutes(4), {"text": "late"}))
    assert state.updated_at == minutes(10) and state.last_seq == 3


VALID_FROM = {
    "acknowledged": {"triggered"},
    "unacknowledged": {"acknowledged"},
    "resolved": {"triggered", "acknowledged"},
    "reopened": {"resolved"},
    "severity_changed": {"triggered", "acknowledged", "resolved"},
    "note": {"triggered", "acknowledged", "resolved"},
}
ACTIONS = sorted(VALID_FROM)


@given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 600)), max_size=30))
def test_replay_is_apply_folded_and_timestamps_follow_status(steps):
    events = opened(started_at=minutes(-3).isoformat())
    for kind, offset in steps:
        # Only what the action services allow from the current status.
        if replay(events).status not in VALID_FROM[kind]:
            continue
        data = {"from": "critical", "to": "info"} if kind == "severity_changed" else {}
        events = then(events, kind, offset, **data)
    state = IncidentState()
    for event in events:
        state = apply(state, event)
    assert replay(events) == state
    assert state.last_seq == len(events)
    assert (state.status == "resolved") == (state.resolved_at is not None)
    if state.status == "acknowledged":
        assert state.acknowledged_at is not None
    assert state.impact_started_at == minutes(-3)
