"""Drill maths, pure: which drill window an alert falls in, and how a drilled service did
against its targets. Plain values in, plain values out; no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


class Result:
    PASS = "pass"  # noqa: S105 - a result, not a password
    FAIL = "fail"
    MISSED = "missed"  # a fault was injected and nothing detected it
    WAITING = "waiting"  # the fault is still on and nothing detected it yet
    PENDING = "pending"  # detected, not yet resolved
    NO_TARGET = "no target"
    NOT_INJECTED = "not injected"


@dataclass(frozen=True)
class Window:
    """One drilled service's attach window: from fault injection to `grace` after restore
    (or after the drill finished, when the service was never restored)."""

    drill_id: int
    service_id: int
    injected_at: datetime | None
    restored_at: datetime | None
    finished_at: datetime | None
    grace_seconds: int

    @property
    def ends_at(self) -> datetime | None:
        end = self.restored_at or self.finished_at
        return end + timedelta(seconds=self.grace_seconds) if end else None

    def contains(self, at: datetime) -> bool:
        if self.injected_at is None or at < self.injected_at:
            return False
        return self.ends_at is None or at <= self.ends_at


def window_for(windows: list[Window], *, service_id: int, at: datetime) -> Window | None:
    """The window an alert of `service_id` received at `at` belongs to; when drills overlap,
    the one injected most recently before the alert."""
    matching = [w for w in windows if w.service_id == service_id and w.contains(at)]
    return max(matching, key=lambda w: w.injected_at) if matching else None


@dataclass(frozen=True)
class IncidentTimes:
    incident_id: int
    detected_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class ServiceOutcome:
    injected_at: datetime | None
    detected_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    restored_at: datetime | None
    mttd_seconds: float | None
    mtta_seconds: float | None
    mttr_seconds: float | None
    max_mttd_seconds: int | None
    max_mttr_seconds: int | None
    mttd_result: str
    mttr_result: str
    incidents: int

    @property
    def missed(self) -> bool:
        return self.mttd_result == Result.MISSED

    @property
    def passed(self) -> bool | None:
        """True when every figure met its target, False when one failed (or detection was
        missed), None while not decided (not injected, still waiting or pending)."""
        results = {self.mttd_result, self.mttr_result}
        if results & {Result.FAIL, Result.MISSED}:
            return False
        if results <= {Result.PASS, Result.NO_TARGET}:
            return True
        return None


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


def _against(value: float | None, target: int | None) -> str:
    if target is None:
        return Result.NO_TARGET
    return Result.PASS if value is not None and value <= target else Result.FAIL


def service_outcome(
    *,
    injected_at: datetime | None,
    restored_at: datetime | None,
    incidents: list[IncidentTimes],
    max_mttd_seconds: int | None,
    max_mttr_seconds: int | None,
    finished: bool,
) -> ServiceOutcome:
    """How one drilled service did. MTTD and MTTR count from the fault injection (the
    drill's impact start); MTTA from the first detection."""
    detected = min((i.detected_at for i in incidents), default=None)
    acknowledged = min((i.acknowledged_at for i in incidents if i.acknowledged_at), default=None)
    all_resolved = bool(incidents) and all(i.resolved_at for i in incidents)
    resolved = max(i.resolved_at for i in incidents) if all_resolved else None
    mttd = _seconds(detected, injected_at)
    mttr = _seconds(resolved, injected_at)
    over = finished or restored_at is not None
    if injected_at is None:
        mttd_result = mttr_result = Result.NOT_INJECTED
    elif detected is None and not over:
        mttd_result, mttr_result = Result.WAITING, Result.PENDING
    elif detected is None:
        mttd_result = Result.MISSED
        mttr_result = Result.NO_TARGET if max_mttr_seconds is None else Result.FAIL
    else:
        mttd_result = _against(mttd, max_mttd_seconds)
        if resolved is None and not finished:
            mttr_result = Result.PENDING
        else:
            mttr_result = _against(mttr, max_mttr_seconds)
    return ServiceOutcome(
        injected_at=injected_at,
        detected_at=detected,
        acknowledged_at=acknowledged,
        resolved_at=resolved,
        restored_at=restored_at,
        mttd_seconds=mttd,
        mtta_seconds=_seconds(acknowledged, detected),
        mttr_seconds=mttr,
        max_mttd_seconds=max_mttd_seconds,
        max_mttr_seconds=max_mttr_seconds,
        mttd_result=mttd_result,
        mttr_result=mttr_result,
        incidents=len(incidents),
    )


def drill_passed(outcomes: list[ServiceOutcome]) -> bool | None:
    """A drill passes when every injected service passed; fails when any failed."""
    decided = [o.passed for o in outcomes if o.injected_at is not None]
    if not decided:
        return None
    if any(p is False for p in decided):
        return False
    if all(p is True for p in decided):
        return True
    return None
