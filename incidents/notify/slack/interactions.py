"""A button press from Slack, once its signature is checked: acknowledge or resolve as the
Pagerline user the Slack account is linked to (via Slack on the timeline), or link an
account. Each press is kept once (an InboundMessage keyed by presser and action_ts), so a
delivery Slack retries, or a request replayed within the signature's five minutes, does
nothing twice. Whoever may not act is told so in a note only they see, and nothing
changes. Tests: incidents/tests/notify/test_slack_interactions.py.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from slack_sdk.signature import SignatureVerifier

from core.fields import MAX_STORED_INT
from incidents.models import (
    ActedVia,
    Channel,
    InboundMessage,
    Incident,
    IncidentStatus,
    Notification,
)
from incidents.notify import phone_text
from incidents.notify.slack import blocks, drawing, linking, messages
from incidents.notify.slack.payload import Press, Reply
from incidents.timeline import actions

_ACTIONS = {
    blocks.ACKNOWLEDGE: actions.incident_acknowledge,
    blocks.RESOLVE: actions.incident_resolve,
}
NOT_LINKED = (
    "Pagerline did nothing: this Slack account is not linked to a Pagerline user who may "
    "respond. Add your Slack member ID as a contact method in Pagerline, confirm it in the "
    "DM Pagerline sends you, and press again."
)
NOT_LINKED_REPLY = Reply(NOT_LINKED)


def signature_valid(*, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's v0 signature (HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing
    secret), and a timestamp within five minutes of now. No secret configured: nothing is."""
    secret = settings.SLACK_SIGNING_SECRET
    if not secret or not timestamp or not signature:
        return False
    try:
        return SignatureVerifier(secret).is_valid(
            body=body, timestamp=timestamp, signature=signature
        )
    except (ValueError, UnicodeDecodeError, OverflowError):
        return False


def press_handle(*, press: Press, now: datetime | None = None) -> Reply | None:
    """Act on a press; what to tell the presser, or None (the message redraw says it)."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                inbound = InboundMessage.objects.create(
                    channel=Channel.SLACK,
                    provider_id=press.provider_id,
                    sender=press.slack_user_id,
                    body=f"{press.action_id} {press.value}"[:200],
                    received_at=now,
                )
        except IntegrityError:
            return None  # handled when it first came
        if press.action_id == blocks.LINK:
            reply = _link(press, now)
        else:
            inbound.user = linking.linked_user(press.slack_user_id)
            reply = NOT_LINKED_REPLY if inbound.user is None else _act(inbound.user, press, now)
        inbound.outcome = reply.text if reply else f"{press.action_id}d #{press.value}"
        inbound.save(update_fields=["user", "outcome"])
    return reply


def _number(value: str) -> int | None:
    """A positive id a column can hold, or None (Slack signed it, but it is still text)."""
    if not (value.isascii() and value.isdigit() and len(value) <= 10):
        return None
    number = int(value)
    return number if 0 < number <= MAX_STORED_INT else None


def _link(press: Press, now: datetime) -> Reply:
    method_id = _number(press.value)
    if method_id is None:
        return Reply("This button names no contact method; nothing was linked.")
    return linking.slack_link_confirm(
        method_id=method_id, slack_user_id=press.slack_user_id, now=now
    )


def _act(user, press: Press, now: datetime) -> Reply | None:
    if press.action_id == blocks.ACKNOWLEDGE_ALL:
        return _acknowledge_all(user, press, now)
    incident_id = _number(press.value)
    if incident_id is None:
        return Reply("This button names no incident; nothing was done.")
    try:
        _ACTIONS[press.action_id](incident_id=incident_id, user=user, via=ActedVia.SLACK, at=now)
    except Incident.DoesNotExist:
        return Reply(f"Incident #{incident_id} no longer exists.")
    except PermissionDenied:
        return Reply(
            f"Pagerline did nothing: {user.get_username()} is not a responder or manager of "
            f"the team that owns incident #{incident_id}."
        )
    except actions.InvalidTransition:
        return Reply(_already(incident_id))
    return None


def _already(incident_id: int) -> str:
    incident = Incident.objects.get(pk=incident_id)
    who, _ = messages.acted_by(incident)
    by = f" by {who}" if who else ""
    if incident.status in {"acknowledged", "resolved"}:
        return f"Incident #{incident_id} is already {incident.status}{by}."
    return f"Incident #{incident_id} is {incident.status}; nothing was done."


def _acknowledge_all(user, press: Press, now: datetime) -> Reply:
    """A bundle's "Acknowledge all": every incident the DM carries that is still triggered,
    as the presser (who must be the person it was sent to), each through the same action
    as one button; the presser is told what was done."""
    notification_id = _number(press.value)
    head = None
    if notification_id is not None:
        head = Notification.objects.filter(
            pk=notification_id, channel=Channel.SLACK, user=user
        ).first()
    if head is None:
        return Reply("This button names no page of yours; nothing was done.")
    incidents = drawing.incidents_of(drawing.page_rows(head))
    waiting = sorted(i.pk for i in incidents if i.status == IncidentStatus.TRIGGERED)
    outcomes = [_acknowledge_one(user, incident_id, now) for incident_id in waiting]
    if not outcomes:
        return Reply("Nothing to acknowledge: every incident of this message was handled.")
    return Reply(phone_text.outcomes_sms("acknowledge", outcomes))


def _acknowledge_one(user, incident_id: int, now: datetime) -> phone_text.Outcome:
    """One incident of an "Acknowledge all", as its own button would (in id order, the
    order every writer locks incidents in)."""
    try:
        actions.incident_acknowledge(incident_id=incident_id, user=user, via=ActedVia.SLACK, at=now)
    except Incident.DoesNotExist:
        return phone_text.Outcome(incident_id, "", "not_found")
    except PermissionDenied:
        return phone_text.Outcome(incident_id, "", "not_allowed")
    except actions.InvalidTransition:
        status = Incident.objects.filter(pk=incident_id).values_list("status", flat=True).first()
        known = status in {IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED}
        return phone_text.Outcome(incident_id, "", f"already_{status}" if known else "not_found")
    return phone_text.Outcome(incident_id, "", "done")
