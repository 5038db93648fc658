"""Acting on incidents from a phone: who a number belongs to, which pages are theirs, and
one acknowledgement or resolution through the responder actions (incidents.timeline.actions),
so the permission check, the timeline event ("via SMS") and MTTA are the web's own.

Every inbound request is kept once per provider id (InboundMessage): a replayed request
finds its row and gets the first answer again, changing nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from incidents.models import (
    OPEN_STATUSES,
    Channel,
    ContactMethod,
    InboundMessage,
    Incident,
    IncidentStatus,
)
from incidents.notify.address import PHONE_KINDS
from incidents.notify.phone_text import Outcome
from incidents.timeline import actions, selectors

MAX_BODY = 1600


def phone_owner(number: str):
    """The active user who verified `number` (as an SMS or voice contact method), or None
    when nobody did, or more than one person did (then nobody can be told apart)."""
    owners = set(
        ContactMethod.objects.filter(
            kind__in=PHONE_KINDS, address=number, verified_at__isnull=False
        ).values_list("user_id", flat=True)
    )
    if len(owners) != 1:
        return None
    return get_user_model().objects.filter(pk=owners.pop(), is_active=True).first()


def inbound_claim(
    *, channel: str, provider_id: str, sender: str, body: str, now: datetime
) -> tuple[InboundMessage, bool]:
    """The request's row (created now, in the caller's transaction) and whether it is new;
    a replay (the same MessageSid or CallSid again) finds the first one's."""
    fields = {"sender": sender[:200], "body": body[:MAX_BODY], "received_at": now}
    try:
        with transaction.atomic():
            row = InboundMessage.objects.create(channel=channel, provider_id=provider_id, **fields)
    except IntegrityError:
        return InboundMessage.objects.get(channel=channel, provider_id=provider_id), False
    return row, True


def open_pages(user, action: str) -> list[int]:
    """The incidents that paged `user` and are still waiting for what `action` does:
    triggered ones to acknowledge, open ones to resolve."""
    statuses = [IncidentStatus.TRIGGERED] if action == "acknowledge" else list(OPEN_STATUSES)
    return list(
        Incident.objects.filter(personal_pages__user=user, status__in=statuses)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )


def incidents_by_id(incident_ids: Iterable[int]) -> list[Incident]:
    return list(
        Incident.objects.select_related("service").filter(pk__in=incident_ids).order_by("pk")
    )


def incident_act(*, user, action: str, incident_id: int, via: str, now: datetime) -> Outcome:
    """Acknowledge or resolve one incident as `user` (the caller's transaction)."""
    incident = selectors.incidents_for(user).filter(pk=incident_id).first()
    if incident is None:
        return Outcome(incident_id, "", "not_found")
    service = incident.service.name
    act = actions.incident_acknowledge if action == "acknowledge" else actions.incident_resolve
    try:
        act(incident_id=incident_id, user=user, at=now, via=via)
    except PermissionDenied:
        return Outcome(incident_id, service, "not_allowed")
    except actions.InvalidTransition:
        status = Incident.objects.filter(pk=incident_id).values_list("status", flat=True).first()
        already = "acknowledged" if status == IncidentStatus.ACKNOWLEDGED else "resolved"
        return Outcome(incident_id, service, f"already_{already}")
    return Outcome(incident_id, service, "done")


def incidents_act(
    *, user, action: str, incident_ids: Iterable[int], via: str, now: datetime
) -> list[Outcome]:
    """One action on several incidents, in id order (the order every writer locks them)."""
    return [
        incident_act(user=user, action=action, incident_id=pk, via=via, now=now)
        for pk in sorted(set(incident_ids))
    ]


def sms_opt_out(*, number: str, now: datetime) -> int:
    """STOP: the carrier (and Twilio) block texts to the number from now on, so pages stop
    trying (sending.usable_methods skips opted-out methods) until START."""
    return ContactMethod.objects.filter(
        kind=Channel.SMS, address=number, opted_out_at__isnull=True
    ).update(opted_out_at=now)


def sms_opt_in(*, number: str) -> int:
    return ContactMethod.objects.filter(
        kind=Channel.SMS, address=number, opted_out_at__isnull=False
    ).update(opted_out_at=None)
