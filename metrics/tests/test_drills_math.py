"""Drill maths is pure: attach windows and how a drilled service did against its targets."""

from datetime import UTC, datetime, timedelta

import pytest

from metrics.drill_math import (
    IncidentTimes,
    Result,
    Window,
    drill_passed,
    service_outcome,
    window_for,
)

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def window(**overrides) -> Window:
    values = dict(
        drill_id=1,
        service_id=7,
        injected_at=T0,
        restored_at=at(600),
        finished_at=None,
        grace_seconds=300,
    )
    values.update(overrides)
    return Window(**values)


@pytest.mark.parametrize(
    ("offset", "inside"),
    [(-0.000001, False), (0, True), (600, True), (900, True), (900.000001, False)],
)
def test_it_takes_alerts_from_injection_to_grace_after_restore(offset, inside):
    assert window().contains(at(offset)) is inside


def test_a_window_without_restore_stays_open_until_the_drill_finishes():
    running = window(restored_at=None)
    assert running.contains(at(86400 * 3))
    finished = window(restored_at=None, finished_at=at(1000))
    assert finished.contains(at(1300)) and not finished.contains(at(1301))


def test_a_service_never_injected_takes_nothing():
    assert not window(injected_at=None, restored_at=None).contains(at(10))


def test_overlapping_drills_go_to_the_latest_injection_before_the_alert():
    older = window(drill_id=1, injected_at=at(-100), restored_at=None)
    newer = window(drill_id=2, injected_at=at(0), restored_at=None)
    other_service = window(drill_id=3, service_id=8, injected_at=at(50), restored_at=None)
    windows = [older, newer, other_service]
    assert window_for(windows, service_id=7, at=at(60)).drill_id == 2
    assert window_for(windows, service_id=7, at=at(-50)).drill_id == 1
    assert window_for(windows, service_id=9, at=at(60)) is None


def incident(detected, acked=None, resolved=None, pk=1) -> IncidentTimes:
    return IncidentTimes(
        pk,
        at(detected),
        at(acked) if acked is not None else None,
        at(resolved) if resolved is not None else None,
    )


def test_it_measures_from_the_injection_and_checks_targets():
    outcome = service_outcome(
        injected_at=T0,
        restored_at=at(900),
        incidents=[incident(95.5, 130, 1200, pk=1), incident(100, 110, 1500, pk=2)],
        max_mttd_seconds=120,
        max_mttr_seconds=1800,
        finished=True,
    )
    assert outcome.detected_at == at(95.5)
    assert outcome.acknowledged_at == at(110)  # the first acknowledgement of any of them
    assert outcome.resolved_at == at(1500)  # the last one resolved ends the impact
    assert outcome.mttd_seconds == 95.5
    assert outcome.mtta_seconds == 14.5
    assert outcome.mttr_seconds == 1500
    assert (outcome.mttd_result, outcome.mttr_result) == (Result.PASS, Result.PASS)
    assert outcome.passed is True and not outcome.missed


def test_it_fails_a_target_that_was_exceeded():
    outcome = service_outcome(
        injected_at=T0,
        restored_at=at(900),
        incidents=[incident(121, 130, 600)],
        max_mttd_seconds=120,
        max_mttr_seconds=None,
        finished=True,
    )
    assert outcome.mttd_result == Result.FAIL
    assert outcome.mttr_result == Result.NO_TARGET
    assert outcome.passed is False


def test_a_fault_nobody_detected_is_a_missed_detection_once_restored():
    while_on = service_outcome(
        injected_at=T0,
        restored_at=None,
        incidents=[],
        max_mttd_seconds=60,
        max_mttr_seconds=600,
        finished=False,
    )
    assert while_on.mttd_result == Result.WAITING and while_on.passed is None
    restored = service_outcome(
        injected_at=T0,
        restored_at=at(300),
        incidents=[],
        max_mttd_seconds=60,
        max_mttr_seconds=600,
        finished=False,
    )
    assert restored.missed
    assert restored.mttr_result == Result.FAIL
    assert restored.passed is False


def test_an_open_incident_leaves_mttr_pending_until_the_drill_finishes():
    common = dict(
        injected_at=T0,
        restored_at=at(300),
        incidents=[incident(30, 40, None)],
        max_mttd_seconds=60,
        max_mttr_seconds=600,
    )
    running = service_outcome(**common, finished=False)
    assert running.mttr_result == Result.PENDING and running.mttr_seconds is None
    assert running.passed is None
    finished = service_outcome(**common, finished=True)
    assert finished.mttr_result == Result.FAIL


def test_a_drill_passes_only_when_every_injected_service_passed():
    ok = service_outcome(
        injected_at=T0,
        restored_at=at(60),
        incidents=[incident(10, 20, 50)],
        max_mttd_seconds=60,
        max_mttr_seconds=60,
        finished=True,
    )
    missed = service_outcome(
        injected_at=T0,
        restored_at=at(60),
        incidents=[],
        max_mttd_seconds=60,
        max_mttr_seconds=None,
        finished=True,
    )
    untouched = service_outcome(
        injected_at=None,
        restored_at=None,
        incidents=[],
        max_mttd_seconds=60,
        max_mttr_seconds=60,
        finished=True,
    )
    assert drill_passed([ok, untouched]) is True
    assert drill_passed([ok, missed]) is False
    assert drill_passed([untouched]) is None
