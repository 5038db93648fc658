"""How timeline events read to a person: the kind's label and a short detail, used by the
incident page, the JSON it polls and the API. Kinds added elsewhere (escalation,
notifications) register a describer in DESCRIBERS, or show their label alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from incidents.models import ActedVia, EventKind, IncidentEvent
from incidents.timeline import markdown

_LABELS = dict(EventKind.choices)


def _when(value: str | None) -> str:
    if not value:
        return "unknown"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _triggered(data: dict) -> str:
    title = data.get("title", "")
    if data.get("dedup_key", "").startswith("manual:"):
        return f"{title} (opened by hand)"
    return f"{title} (from {data.get('source', 'an alert')})"


def _alert_fired(data: dict) -> str:
    text = data.get("title", "")
    if data.get("refire"):
        text += f" (fired again, {data.get('fire_count', 2)} times"
        text += ", flapping)" if data.get("flapping") else ")"
    return text


def _assigned(data: dict) -> str:
    return f"to {data['assignee']}" if data.get("assignee") else "nobody is assigned now"


def _impact(data: dict) -> str:
    return (
        f"to {_when(data.get('impact_started_at'))} "
        f"(was {_when(data.get('previous'))}): {data.get('reason', '')}"
    )


def _drill(data: dict) -> str:
    how = " (automatically)" if data.get("automatic") else ""
    return f"{data.get('drill_name', '')}{how}"


def _via(data: dict, before: str = "", after: str = "") -> str:
    """ "via SMS", "via an email link": where a responder acted (absent on older events and
    on events no responder made)."""
    via = data.get("via")
    if not via or via in {ActedVia.WEB, ActedVia.SOURCE}:
        return ""
    try:
        return f"{before}via {ActedVia(via).label}{after}"
    except ValueError:
        return ""


# Each returns the detail shown after the event's label ("Resolved: all alerts resolved").
DESCRIBERS: dict[str, Callable[[dict], str]] = {
    EventKind.TRIGGERED: _triggered,
    EventKind.ALERT_FIRED: _alert_fired,
    EventKind.ALERT_RESOLVED: lambda d: d.get("title", ""),
    EventKind.ACKNOWLEDGED: lambda d: _via(d),
    EventKind.UNACKNOWLEDGED: lambda d: _via(d),
    EventKind.RESOLVED: lambda d: " ".join(filter(None, [d.get("reason", ""), _via(d, "(", ")")])),
    EventKind.REOPENED: lambda d: d.get("reason", ""),
    EventKind.SEVERITY_CHANGED: lambda d: f"from {d['from']} to {d['to']}",
    EventKind.ASSIGNED: _assigned,
    EventKind.IMPACT_START_CORRECTED: _impact,
    EventKind.SENDER_TRUNCATED: lambda d: f"{d['count']} alerts were left out by the sender",
    EventKind.CLOCK_SKEW: lambda d: (
        f"start {_when(d.get('reported_starts_at'))} taken as {_when(d.get('clamped_to'))}"
    ),
    EventKind.UNROUTED: lambda d: f"alert {d.get('fingerprint', '')} went to the default service",
    EventKind.SOURCE_ACTION_IGNORED: lambda d: f"{d.get('action', '')}: {d.get('reason', '')}",
    EventKind.DRILL_ATTACHED: _drill,
    EventKind.DRILL_DETACHED: _drill,
    EventKind.ESCALATED: lambda d: d.get("summary", ""),
    EventKind.ESCALATION_WARNING: lambda d: d.get("summary", ""),
    EventKind.ESCALATION_EXHAUSTED: lambda d: d.get("summary", ""),
    EventKind.IN_MAINTENANCE: lambda d: d.get("summary", ""),
}


def label(kind: str) -> str:
    return _LABELS.get(kind) or kind.replace("_", " ").capitalize()


def describe(kind: str, data: dict[str, Any]) -> str:
    """The detail after the label; empty when the label says it all (acknowledged, note)."""
    describer = DESCRIBERS.get(kind)
    if describer is None:
        return ""
    try:
        return describer(data)
    except (KeyError, TypeError, ValueError):
        return ""  # an old event missing a field still shows, by its label


def actor_name(event: IncidentEvent) -> str:
    if event.actor_id is not None and event.actor is not None:
        return event.actor.get_username()
    return event.actor_label or "system"


def note_html(event: IncidentEvent) -> str:
    if event.kind != EventKind.NOTE:
        return ""
    return markdown.render(event.data.get("text", ""))


def entry(event: IncidentEvent) -> dict[str, Any]:
    """One event for JSON (the page's poll and the API); the note's HTML is sanitised."""
    return {
        "seq": event.seq,
        "kind": event.kind,
        "label": label(event.kind),
        "text": describe(event.kind, event.data),
        "at": event.at.isoformat(),
        "actor": actor_name(event),
        "data": event.data,
        "html": note_html(event),
    }
