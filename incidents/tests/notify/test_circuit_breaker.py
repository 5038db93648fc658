"""The circuit breaker's state machine and the retry backoff. Pure: no database."""

from datetime import UTC, datetime, timedelta

from incidents.notify import breaker
from incidents.notify.breaker import CLOSED, HALF_OPEN, OPEN, BreakerState

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
COOLDOWN = timedelta(seconds=60)


def fail(state: BreakerState, times: int, *, at=T0, threshold: int = 3) -> BreakerState:
    for _ in range(times):
        state = breaker.record_failure(state, now=at, threshold=threshold)
    return state


def test_it_stays_closed_below_the_threshold():
    state = fail(BreakerState(), 2)
    assert (state.state, state.failures) == (CLOSED, 2)
    assert breaker.allow(state, now=T0, cooldown=COOLDOWN)[0].allowed


def test_a_success_resets_the_count_of_consecutive_failures():
    state = breaker.record_success(fail(BreakerState(), 2))
    assert fail(state, 2).state == CLOSED


def test_it_opens_after_n_consecutive_failures_and_refuses_until_the_cooldown():
    state = fail(BreakerState(), 3)
    assert (state.state, state.opened_at) == (OPEN, T0)
    decision, same = breaker.allow(state, now=T0 + timedelta(seconds=59), cooldown=COOLDOWN)
    assert not decision.allowed
    assert decision.retry_at == T0 + COOLDOWN
    assert same == state


def test_after_the_cooldown_it_lets_exactly_one_probe_through():
    state = fail(BreakerState(), 3)
    later = T0 + COOLDOWN
    probe, state = breaker.allow(state, now=later, cooldown=COOLDOWN)
    assert probe.allowed
    assert state.state == HALF_OPEN
    second, _ = breaker.allow(state, now=later + timedelta(seconds=1), cooldown=COOLDOWN)
    assert not second.allowed
    assert second.retry_at == later + COOLDOWN


def test_a_successful_probe_closes_it():
    _, state = breaker.allow(fail(BreakerState(), 3), now=T0 + COOLDOWN, cooldown=COOLDOWN)
    assert breaker.record_success(state) == BreakerState()


def test_a_failed_probe_opens_it_for_another_cooldown():
    probe_at = T0 + COOLDOWN
    _, state = breaker.allow(fail(BreakerState(), 3), now=probe_at, cooldown=COOLDOWN)
    state = breaker.record_failure(state, now=probe_at, threshold=3)
    assert (state.state, state.opened_at) == (OPEN, probe_at)


def test_a_probe_that_never_reports_back_is_replaced_after_a_cooldown():
    probe_at = T0 + COOLDOWN
    _, state = breaker.allow(fail(BreakerState(), 3), now=probe_at, cooldown=COOLDOWN)
    again, state = breaker.allow(state, now=probe_at + COOLDOWN, cooldown=COOLDOWN)
    assert again.allowed
    assert state.probe_at == probe_at + COOLDOWN


def test_failures_of_attempts_started_before_it_opened_keep_it_open():
    state = fail(BreakerState(), 3)
    state = fail(state, 2, at=T0 + timedelta(seconds=30))
    assert (state.state, state.opened_at) == (OPEN, T0)


def test_backoff_doubles_up_to_a_cap():
    waits = [breaker.backoff(n, base_seconds=30).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
