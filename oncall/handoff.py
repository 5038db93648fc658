"""Handoff notices: which shifts start soon, the claim that makes each notice go out once,
and what it says. Sending is the paging side's (incidents.notify.handoffs, run every minute
by the beat task ``incidents.send_handoff_notices``), since imports run metrics ->
incidents -> oncall and only incidents has every channel.

A notice is claimed by inserting its ``HandoffNotice`` row (unique per schedule, user and
shift start) before anything goes out, so two overlapping runs, a repeated task or a second
beat send it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from oncall import rotation, selectors
from oncall.models import HandoffNotice, Schedule, UserProfile

# A beat that runs late still sends the notice for a shift that began this recently.
GRACE = timedelta(minutes=10)
# Final shifts are computed from this far back, so a shift's start is its real start and a
# person who is already on call (adjacent shift of their own) is not told again.
_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DueNotice:
    schedule_id: int
    schedule_name: str
    time_zone: str
    shift: rotation.Shift


def notices_due(*, now: datetime) -> list[DueNotice]:
    """Shifts starting in [now - GRACE, now + the schedule's lead time] whose person was not
    already on call right before; already-sent notices are filtered out when claiming."""
    enabled = Schedule.objects.filter(handoff_notice_seconds__gt=0)
    schedules = list(enabled.values_list("id", "name", "time_zone", "handoff_notice_seconds"))
    if not schedules:
        return []
    longest = max(row[3] for row in schedules)
    low = now - GRACE - _LOOKBACK
    specs = selectors.specs_for(
        enabled,
        overrides_start=low,
        overrides_end=now + timedelta(seconds=longest + 1),
    )
    due = []
    for schedule_id, name, zone, lead in schedules:
        if schedule_id not in specs:
            continue  # deleted in the meantime
        high = now + timedelta(seconds=lead)
        shifts = selectors.final_shifts_of(specs[schedule_id], low, high + timedelta(seconds=1))
        for index, shift in enumerate(shifts):
            if not now - GRACE <= shift.start <= high:
                continue
            previous = shifts[index - 1] if index else None
            if previous and previous.end == shift.start and previous.user == shift.user:
                continue  # already on call: only the source changed (layer -> override)
            # The window cut the shift short; look up its real end for the message (rare:
            # only for shifts that are due).
            whole = selectors.schedule_oncall(schedule_id, at=shift.start) or shift
            due.append(DueNotice(schedule_id, name, zone, whole))
    return due


def notice_claim(notice: DueNotice, user) -> HandoffNotice | None:
    try:
        with transaction.atomic():
            return HandoffNotice.objects.create(
                schedule_id=notice.schedule_id, user=user, shift_start=notice.shift.start
            )
    except IntegrityError:
        return None  # already sent (or being sent) by another run


def _format(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M %Z")


def notice_message(notice: DueNotice, user, user_zone: str) -> tuple[str, str]:
    shift = notice.shift
    subject = f"On call soon: {notice.schedule_name} from {_format(shift.start, user_zone)}"
    lines = [
        f"Hi {user.get_username()},",
        "",
        f"You are on call for {notice.schedule_name}:",
        f"  from {_format(shift.start, user_zone)}",
        f"  to   {_format(shift.end, user_zone)}",
    ]
    if user_zone != notice.time_zone:
        lines.append(
            f"  (schedule time: {_format(shift.start, notice.time_zone)} to "
            f"{_format(shift.end, notice.time_zone)})"
        )
    source = "an override" if shift.source == rotation.OVERRIDE_SOURCE else shift.source
    lines += [
        f"  as {source}",
        "",
        f"Schedule: {settings.PAGERLINE_BASE_URL}/schedules/{notice.schedule_id}/",
    ]
    return subject, "\n".join(lines) + "\n"


def notice_recipients(due: list[DueNotice]) -> tuple[dict, dict]:
    """({username: user}, {user id: time zone}) of the people the notices are for."""
    usernames = {notice.shift.user for notice in due}
    users = {
        user.get_username(): user
        for user in get_user_model().objects.filter(username__in=usernames, is_active=True)
    }
    zones = dict(
        UserProfile.objects.filter(user__in=users.values()).values_list("user_id", "time_zone")
    )
    return users, zones
