"""A circuit breaker per outbound endpoint, as a pure state machine.

closed --N consecutive failures--> open --cool-down passed, one probe allowed--> half_open
half_open --probe succeeds--> closed;  half_open --probe fails--> open (cool-down again)

A probe whose worker died never reports back; after another cool-down a new probe is
allowed, so a breaker cannot stay half-open forever.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerState:
    state: str = CLOSED
    failures: int = 0
    opened_at: datetime | None = None
    probe_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # When a refused attempt should be tried again.
    retry_at: datetime | None = None


def allow(
    state: BreakerState, *, now: datetime, cooldown: timedelta
) -> tuple[Decision, BreakerState]:
    """May an attempt go out now? Returns the decision and the breaker's new state."""
    if state.state == CLOSED:
        return Decision(True), state
    if state.state == OPEN:
        assert state.opened_at is not None
        half_open_at = state.opened_at + cooldown
        if now >= half_open_at:
            return Decision(True), replace(state, state=HALF_OPEN, probe_at=now)
        return Decision(False, half_open_at), state
    assert state.probe_at is not None
    probe_expires_at = state.probe_at + cooldown
    if now >= probe_expires_at:
        return Decision(True), replace(state, probe_at=now)
    return Decision(False, probe_expires_at), state


def record_success(state: BreakerState) -> BreakerState:
    return BreakerState()


def record_failure(state: BreakerState, *, now: datetime, threshold: int) -> BreakerState:
    failures = state.failures + 1
    if state.state == HALF_OPEN or (state.state == CLOSED and failures >= threshold):
        return BreakerState(state=OPEN, failures=failures, opened_at=now)
    # Closed below the threshold, or already open (an attempt that began before it opened).
    return replace(state, failures=failures)


def backoff(attempt: int, *, base_seconds: int, cap_seconds: int = 3600) -> timedelta:
    """Wait before attempt `attempt + 1`: base, 2 x base, 4 x base, ... capped."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempt - 1)))
