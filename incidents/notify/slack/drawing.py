"""What a Slack message about incidents shows now, read from the database: one incident
(a channel post or a DM page) or a bundle (several pages to one person in one DM,
incidents.notify.bundling), with the recipient's acknowledge and resolve links in the
fallback text for the actions still possible. Used when a DM is posted and each time it
is redrawn (incidents.notify.slack.messages); Block Kit itself is in `blocks` (pure).

Links are stored only as hashes, so a redraw cannot repeat the ones first sent: it mints
the recipient new ones, for what can still be done (acknowledge and resolve while
triggered, resolve once acknowledged, none once resolved).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from incidents.models import (
    ActedVia,
    Channel,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Notification,
)
from incidents.notify import links, message
from incidents.notify.slack import blocks

# What a message shows: status, who acknowledged or resolved, severity, assignee.
REDRAW_KINDS = frozenset(
    {
        EventKind.ACKNOWLEDGED,
        EventKind.UNACKNOWLEDGED,
        EventKind.RESOLVED,
        EventKind.REOPENED,
        EventKind.SEVERITY_CHANGED,
        EventKind.ASSIGNED,
    }
)
_DONE_BY = {"acknowledged": "Acknowledged", "resolved": "Resolved"}
# The link actions still possible in each state.
_POSSIBLE = {
    IncidentStatus.TRIGGERED: ("acknowledge", "resolve"),
    IncidentStatus.ACKNOWLEDGED: ("resolve",),
}


def incident_of(incident_id: int) -> Incident:
    return Incident.objects.select_related("service", "assignee").get(pk=incident_id)


def acted_by(incident: Incident) -> tuple[str, datetime | None]:
    """Who brought an acknowledged or resolved incident to its status, and how ("alice via
    SMS", "alertmanager"), and when; ("", None) for a triggered one."""
    if incident.status not in _DONE_BY:
        return "", None
    event = (
        incident.events.filter(kind=incident.status)
        .select_related("actor")
        .order_by("-seq")
        .first()
    )
    if event is None:
        return "", None
    who = event.actor.get_username() if event.actor else event.actor_label or "Pagerline"
    via = event.data.get("via")
    if via in ActedVia.values and via != ActedVia.SOURCE:
        who += f" via {ActedVia(via).label}"
    return who, event.at


def drawing(incident: Incident, *, intro: str = "") -> blocks.Drawing:
    """The incident as a message shows it now, with who brought it to its status."""
    who, at = acted_by(incident)
    last_action = f"{_DONE_BY[incident.status]} by {who}" if who else ""
    return blocks.Drawing(
        incident_id=incident.pk,
        title=incident.title,
        service=incident.service.name,
        severity=incident.severity,
        status=incident.status,
        url=message.incident_url(incident),
        assignee=incident.assignee.get_username() if incident.assignee else "",
        last_action=last_action,
        last_action_at=at,
        intro=intro,
    )


def possible_links(*, incident: Incident, user_id: int, now: datetime) -> dict[str, str]:
    """New one-use links for the recipient, for the actions the incident still allows."""
    return {
        action: links.link_mint(
            incident=incident, user_id=user_id, action=action, channel=Channel.SLACK, now=now
        )
        for action in _POSSIBLE.get(incident.status, ())
    }


# --- DMs: one page or a bundle ----------------------------------------------------------------


def page_rows(head: Notification) -> list[Notification]:
    """The pages one DM carried, read back: the row that carried it, then those bundled
    into it (their own incidents, oldest first)."""
    bundled = (
        Notification.objects.filter(bundled_into=head)
        .select_related("incident__service", "incident__assignee")
        .order_by("created_at", "id")
    )
    return [head, *bundled]


def page_row_of(*, incident_id: int, ts: str) -> Notification | None:
    """The notification whose DM has this ts (the transport keeps it as provider_id)."""
    return (
        Notification.objects.filter(incident_id=incident_id, channel=Channel.SLACK, provider_id=ts)
        .order_by("id")
        .first()
    )


def incidents_of(rows: list[Notification]) -> list[Incident]:
    """The incidents of a DM's pages, once each, in the order they were paged, as they are
    now."""
    ids = list(dict.fromkeys(row.incident_id for row in rows if row.incident_id is not None))
    found = {
        i.pk: i for i in Incident.objects.filter(pk__in=ids).select_related("service", "assignee")
    }
    return [found[pk] for pk in ids if pk in found]


def bundle_mark(incidents: list[Incident]) -> int:
    """What a bundle DM last drew, as one growing number: the events that change what it
    shows, over all its incidents (a note on one of them redraws nothing)."""
    return IncidentEvent.objects.filter(
        incident__in=[i.pk for i in incidents], kind__in=REDRAW_KINDS
    ).count()


def dm_body(*, rows: list[Notification], user_id: int, now: datetime) -> tuple[dict, int, bool]:
    """The DM of these pages as it should look now: ({"text", "blocks"}, the mark to keep
    as SlackMessage.drawn_seq, whether it is a bundle). One incident: its page's text,
    buttons and links; several: each listed with its own (message.MAX_LISTED, the rest
    counted) and "Acknowledge all" while any is triggered."""
    incidents = incidents_of(rows)
    if len(incidents) == 1:
        (incident,) = incidents
        drawn = drawing(incident, intro=rows[0].text)
        found = possible_links(incident=incident, user_id=user_id, now=now)
        return blocks.incident_message(drawn, links=found), incident.last_seq, False
    listed = incidents[: message.MAX_LISTED]
    body = blocks.bundle_message(
        [drawing(i) for i in listed],
        more=len(incidents) - len(listed),
        more_url=f"{settings.PAGERLINE_BASE_URL}/incidents/",
        links={i.pk: possible_links(incident=i, user_id=user_id, now=now) for i in listed},
        all_value=(
            str(rows[0].pk) if any(i.status == IncidentStatus.TRIGGERED for i in incidents) else ""
        ),
    )
    return body, bundle_mark(incidents), True
