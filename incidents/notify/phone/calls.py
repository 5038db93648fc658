"""Phone calls: what Pagerline's calls say when answered and what the keys pressed do
(4 acknowledge, 6 resolve, as the person the call paged, via a phone call on the timeline),
and calls *to* Pagerline's number: a person with open pages hears them and may answer the
same way (4 acknowledges all, 6 resolves all).

Each function returns TwiML. A call is read when it is answered, so it says the incidents'
state at that moment; once one key has acted, the call's SID is kept (InboundMessage) and a
replayed request only hears the first answer again.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.fields import MAX_ID
from incidents.models import (
    ActedVia,
    Channel,
    IncidentStatus,
    Notification,
    NotificationReason,
)
from incidents.notify import message, phone_text, replies
from incidents.notify.phone import acting, status, twiml
from incidents.notify.transports.twilio_api import public_url


def _notification(notification_id: int) -> Notification | None:
    if not 1 <= notification_id <= MAX_ID:
        return None
    return (
        Notification.objects.select_related("incident__service", "user")
        .filter(pk=notification_id, channel=Channel.VOICE)
        .first()
    )


def call_answered(
    *, notification_id: int, answered_by: str = "", now: datetime | None = None
) -> str:
    """The TwiML of one of Pagerline's calls, fetched when the person picks up. A machine
    that picked up (answering-machine detection) hears nothing: the call hangs up and the
    person's next rule step goes at once (phone.status)."""
    row = _notification(notification_id)
    if row is None:
        return twiml.say(phone_text.CALL_GONE)
    if status.answered_by_machine(answered_by):
        status.delivery_status_record(
            sid=row.provider_id,
            status="in-progress",
            answered_by=answered_by,
            notification_id=row.pk,
            now=now or timezone.now(),
        )
        return twiml.hangup()
    if row.incident is None:  # a verification code or a test: read it out
        text = phone_text.plain(row.text)
        if row.reason == NotificationReason.VERIFY:
            text = phone_text.spoken_digits(text)
        return twiml.say(text, times=2)
    incidents = message.incidents_of(row)
    waiting = [i for i in incidents if i.status == IncidentStatus.TRIGGERED]
    if not waiting:
        return twiml.say(phone_text.call_handled([i.pk for i in incidents]))
    script = phone_text.call_script([message.phone_page(i) for i in waiting])
    return twiml.ask(script, action=public_url("twilio-call-keys", row.pk))


def call_keys(
    *, notification_id: int, call_sid: str, called: str, digits: str, now: datetime
) -> str:
    """A key pressed in one of Pagerline's calls."""
    row = _notification(notification_id)
    if row is None or not row.user.is_active:
        return twiml.say(phone_text.CALL_GONE)
    action = replies.key(digits)
    if action is None:
        return twiml.ask(phone_text.KEYS, action=public_url("twilio-call-keys", row.pk))
    incident_ids = [i.pk for i in message.incidents_of(row)]
    return _act(
        call_sid=call_sid,
        sender=called,
        digits=digits,
        user=row.user,
        action=action,
        incident_ids=incident_ids,
        now=now,
    )


def callback_answered(*, caller: str) -> str:
    """A call to Pagerline's number: the caller's open pages, or why there is nothing."""
    user = acting.phone_owner(caller)
    if user is None:
        return twiml.say(phone_text.CALL_NOBODY)
    incident_ids = acting.open_pages(user, "resolve")
    if not incident_ids:
        return twiml.say(phone_text.CALL_NOTHING_OPEN)
    incidents = acting.incidents_by_id(incident_ids)
    script = phone_text.callback_script([message.phone_page(i) for i in incidents])
    return twiml.ask(script, action=public_url("twilio-callback-keys"))


def callback_keys(*, call_sid: str, caller: str, digits: str, now: datetime) -> str:
    """A key pressed in a call to Pagerline's number: acts on all the caller's open pages."""
    user = acting.phone_owner(caller)
    if user is None:
        return twiml.say(phone_text.CALL_NOBODY)
    action = replies.key(digits)
    if action is None:
        return twiml.ask(phone_text.KEYS, action=public_url("twilio-callback-keys"))
    return _act(
        call_sid=call_sid,
        sender=caller,
        digits=digits,
        user=user,
        action=action,
        incident_ids=acting.open_pages(user, action),
        now=now,
    )


def _act(
    *, call_sid: str, sender: str, digits: str, user, action: str, incident_ids, now: datetime
) -> str:
    with transaction.atomic():
        record, new = acting.inbound_claim(
            channel=Channel.VOICE, provider_id=call_sid, sender=sender, body=digits, now=now
        )
        if not new:
            return twiml.say(record.outcome or phone_text.CALL_GONE)
        outcomes = acting.incidents_act(
            user=user, action=action, incident_ids=incident_ids, via=ActedVia.VOICE, now=now
        )
        answer = phone_text.outcome_spoken(action, outcomes)
        record.user, record.outcome = user, answer
        record.save(update_fields=["user", "outcome"])
    return twiml.say(answer)
