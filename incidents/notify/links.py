"""Acknowledge and resolve links in messages: minted here, one per (incident, recipient,
action, channel) and message, and redeemed here (the page at /a/<token>/ is
incidents.notify.link_view).

A token is 256 random bits. Only its SHA-256 is stored (a unique index finds it), the
stored hash is compared again in constant time, and the token itself appears in the
message and nowhere else (config.logfilters redacts it from logged paths). It acts once,
as its recipient, until it expires (PAGERLINE_ACTION_LINK_HOURS), and only while the
incident has not moved past its action: an acknowledge link is dead once the incident was
acknowledged or resolved after the link was sent, a resolve link once it was resolved
(an acknowledgement does not stop a resolve link). Its recipient must still be active and
able to respond on the incident's team. docs/paging.md, "Acknowledge and resolve links";
tests in incidents/tests/notify/test_action_links.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core.tokens import token_digest, token_matches, token_mint, token_plausible
from incidents.models import (
    ActedVia,
    ActionToken,
    Channel,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentStatus,
    LinkAction,
)
from incidents.timeline import actions
from oncall.permissions import can_respond

# The path of a link; the view (GET: confirmation page, POST: act) lives at /a/<token>/.
PATH = "/a/{token}/"

# What the timeline says the action came through, by the channel that carried the link.
VIA = {
    Channel.EMAIL: ActedVia.EMAIL,
    Channel.APPRISE: ActedVia.APPRISE,
    Channel.SLACK: ActedVia.SLACK,
    Channel.SMS: ActedVia.SMS,
    Channel.VOICE: ActedVia.VOICE,
}
# The events after which a link of each action has nothing left to do.
PAST = {
    LinkAction.ACKNOWLEDGE: (EventKind.ACKNOWLEDGED, EventKind.RESOLVED),
    LinkAction.RESOLVE: (EventKind.RESOLVED,),
}


def link_mint(*, incident: Incident, user_id: int, action: str, channel: str, now: datetime) -> str:
    """A new one-use link for `user_id` to `action` the incident; returns its URL."""
    if action not in LinkAction.values:
        raise ValueError(f"unknown action {action!r}")
    token, digest = token_mint()
    ActionToken.objects.create(
        token_hash=digest,
        incident=incident,
        user_id=user_id,
        action=action,
        channel=channel,
        created_at=now,
        expires_at=now + timedelta(hours=settings.PAGERLINE_ACTION_LINK_HOURS),
    )
    return settings.PAGERLINE_BASE_URL + PATH.format(token=token)


def links_mint(*, incident: Incident, user_id: int, channel: str, now: datetime) -> dict:
    """{"acknowledge": url, "resolve": url} for one message to one person."""
    return {
        action: link_mint(
            incident=incident, user_id=user_id, action=action, channel=channel, now=now
        )
        for action in LinkAction.values
    }


# --- redeeming --------------------------------------------------------------------------------

READY, DONE = "ready", "done"
UNKNOWN, USED, EXPIRED, FORBIDDEN, MOVED_PAST = (
    "unknown",
    "used",
    "expired",
    "forbidden",
    "moved_past",
)
STATUS = {
    READY: 200,
    DONE: 200,
    UNKNOWN: 404,
    USED: 410,
    EXPIRED: 410,
    FORBIDDEN: 403,
    MOVED_PAST: 409,
}


@dataclass(frozen=True)
class LinkOutcome:
    """What a link can do (GET) or did (POST). `incident` is set only when the recipient
    may still see it (ready, done, moved past)."""

    state: str
    message: str
    action: str = ""
    incident: Incident | None = None

    @property
    def status(self) -> int:
        return STATUS[self.state]


def _find(token: str, *, lock: bool = False) -> ActionToken | None:
    if not token_plausible(token):
        return None
    digest = token_digest(token)
    found = ActionToken.objects.select_related("incident__service", "user")
    if lock:
        found = found.select_for_update(of=("self",))
    found = found.filter(token_hash=digest).first()
    if found is None or not token_matches(found.token_hash, token):
        return None
    return found


def _who_and_when(event: IncidentEvent) -> str:
    who = event.actor.get_username() if event.actor else (event.actor_label or "the system")
    return f"by {who} at {event.at:%Y-%m-%d %H:%M} UTC"


def _verdict(found: ActionToken, now: datetime) -> LinkOutcome:
    action = found.action
    label = LinkAction(action).label.lower()
    if found.used_at is not None:
        return LinkOutcome(USED, "This link has already been used; each link works once.", action)
    if now >= found.expires_at:
        return LinkOutcome(
            EXPIRED, "This link has expired. Open the incident to act on it.", action
        )
    user, incident = found.user, found.incident
    if not user.is_active or not can_respond(user, incident.service.team_id):
        return LinkOutcome(
            FORBIDDEN,
            f"{user.get_username()} can no longer act on this team's incidents.",
            action,
        )
    past = (
        IncidentEvent.objects.filter(
            incident=incident, kind__in=PAST[action], recorded_at__gte=found.created_at
        )
        .select_related("actor")
        .order_by("-seq")
        .first()
    )
    moved = incident.status == IncidentStatus.RESOLVED or (
        action == LinkAction.ACKNOWLEDGE and incident.status == IncidentStatus.ACKNOWLEDGED
    )
    if past is not None or moved:
        if past is None:
            past = (
                IncidentEvent.objects.filter(incident=incident, kind__in=PAST[action])
                .select_related("actor")
                .order_by("-seq")
                .first()
            )
        what = EventKind(past.kind).label.lower() if past else incident.status
        when = f" {_who_and_when(past)}" if past else ""
        return LinkOutcome(
            MOVED_PAST,
            f"Incident #{incident.pk} was already {what}{when}; this link cannot {label} it.",
            action,
            incident,
        )
    return LinkOutcome(
        READY, f"{LinkAction(action).label} incident #{incident.pk}?", action, incident
    )


def link_check(*, token: str, now: datetime | None = None) -> LinkOutcome:
    """What the link would do now. Reads only: mail scanners and link previews fetch links,
    so a GET must never act."""
    found = _find(token)
    if found is None:
        return LinkOutcome(UNKNOWN, "This link is not valid.")
    return _verdict(found, now or timezone.now())


def link_use(*, token: str, now: datetime | None = None) -> LinkOutcome:
    """Act as the link's recipient, once: the token row is locked, checked, the action
    taken through the same service as the page and the API (the timeline says through
    which channel), and the token marked used, in one transaction. Two requests at once
    act once; the second finds the token used."""
    now = now or timezone.now()
    with transaction.atomic():
        found = _find(token, lock=True)
        if found is None:
            return LinkOutcome(UNKNOWN, "This link is not valid.")
        verdict = _verdict(found, now)
        if verdict.state != READY:
            return verdict
        act = (
            actions.incident_acknowledge
            if found.action == LinkAction.ACKNOWLEDGE
            else actions.incident_resolve
        )
        try:
            with transaction.atomic():
                incident = act(
                    incident_id=found.incident_id,
                    user=found.user,
                    at=now,
                    via=VIA.get(found.channel, ActedVia.WEB),
                )
        except actions.InvalidTransition as exc:
            text = str(exc)
            message = f"{text[:1].upper()}{text[1:]}."
            return LinkOutcome(MOVED_PAST, message, found.action, found.incident)
        except PermissionDenied:
            return LinkOutcome(
                FORBIDDEN, "You can no longer act on this team's incidents.", found.action
            )
        found.used_at = now
        found.save(update_fields=["used_at"])
    done = "acknowledged" if found.action == LinkAction.ACKNOWLEDGE else "resolved"
    return LinkOutcome(
        DONE,
        f"Incident #{incident.pk} {done} by {found.user.get_username()}.",
        found.action,
        incident,
    )
