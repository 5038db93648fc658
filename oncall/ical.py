"""iCalendar (RFC 5545) feeds of final shifts, built with the ``icalendar`` library.

Pure: plain values in, bytes out. A shift's UID is derived from its schedule, person and real
start, so calendar clients update an event in place when its end moves (an override was added)
instead of showing a duplicate, and the UID does not change as the feed window slides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event

from oncall.rotation import OVERRIDE_SOURCE, Shift

PRODID = "-//Pagerline//On-call schedules//EN"


@dataclass(frozen=True, slots=True)
class FeedShift:
    schedule_id: int
    schedule_name: str
    shift: Shift


def shift_uid(schedule_id: int, shift: Shift, domain: str) -> str:
    return f"shift-{schedule_id}-{shift.user}-{shift.start.astimezone(UTC):%Y%m%dT%H%M%SZ}@{domain}"


def build_calendar(
    *,
    name: str,
    shifts: Iterable[FeedShift],
    stamp: datetime,
    domain: str,
    with_person: bool,
    url: str = "",
) -> bytes:
    """A VCALENDAR with one VEVENT per shift (UTC times). ``with_person`` adds who is on call to
    the summary, for team feeds where the shifts belong to different people."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    stamp = stamp.astimezone(UTC)
    for item in shifts:
        shift = item.shift
        summary = f"On call: {item.schedule_name}"
        if with_person:
            summary += f" ({shift.user})"
        source = "an override" if shift.source == OVERRIDE_SOURCE else f"layer {shift.source}"
        event = Event()
        event.add("uid", shift_uid(item.schedule_id, shift, domain))
        event.add("dtstamp", stamp)
        event.add("dtstart", shift.start.astimezone(UTC))
        event.add("dtend", shift.end.astimezone(UTC))
        event.add("summary", summary)
        event.add("description", f"{shift.user} is on call for {item.schedule_name} ({source}).")
        event.add("transp", "TRANSPARENT")
        if url:
            event.add("url", url.format(schedule_id=item.schedule_id))
        calendar.add_component(event)
    return calendar.to_ical()
