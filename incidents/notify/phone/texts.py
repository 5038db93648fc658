"""A text message that came in to Pagerline's Twilio number: a reply code acts as the
person whose verified number sent it (via SMS on the timeline), STOP and START switch their
texts off and on, and the answer goes back as a short text.

A number nobody verified changes nothing and learns nothing. A replay of the same
MessageSid gets the first answer again and changes nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from incidents.models import ActedVia, Channel
from incidents.notify import phone_text, replies
from incidents.notify.phone import acting
from incidents.notify.replies import Kind


def sms_receive(*, message_sid: str, sender: str, body: str, now: datetime) -> str:
    """Handle one inbound text; returns the answer to text back ("" for none)."""
    with transaction.atomic():
        record, new = acting.inbound_claim(
            channel=Channel.SMS, provider_id=message_sid, sender=sender, body=body, now=now
        )
        if not new:
            return record.outcome
        reply = replies.parse(body)
        user = acting.phone_owner(sender)
        answer = _answer(reply, user=user, sender=sender, now=now)
        record.user, record.outcome = user, answer
        record.save(update_fields=["user", "outcome"])
    return answer


def _answer(reply: replies.Reply, *, user, sender: str, now: datetime) -> str:
    # The carrier blocks texts after STOP whoever owns the number, so it is always honoured;
    # Twilio itself texts the confirmation.
    if reply.kind == Kind.STOP:
        acting.sms_opt_out(number=sender, now=now)
        return ""
    if reply.kind == Kind.START:
        acting.sms_opt_in(number=sender)
        return phone_text.STARTED
    if user is None:
        return phone_text.NOBODY
    if reply.kind == Kind.HELP:
        return phone_text.HELP
    if reply.kind in {Kind.ACKNOWLEDGE, Kind.RESOLVE}:
        outcome = acting.incident_act(
            user=user,
            action=reply.action,
            incident_id=reply.incident_id,
            via=ActedVia.SMS,
            now=now,
        )
        return phone_text.outcome_sms(reply.action, outcome)
    if reply.kind in {Kind.ACKNOWLEDGE_ALL, Kind.RESOLVE_ALL}:
        outcomes = acting.incidents_act(
            user=user,
            action=reply.action,
            incident_ids=acting.open_pages(user, reply.action),
            via=ActedVia.SMS,
            now=now,
        )
        return phone_text.outcomes_sms(reply.action, outcomes)
    return phone_text.UNKNOWN
