"""The voice transport (Twilio Voice): a call whose TwiML Pagerline serves when the person
answers (incidents.notify.phone.calls: the incident read with <Say>, keys taken with
<Gather>: 4 acknowledge, 6 resolve), so the call says the incident's state at that moment.
A message that is not a page (a verification code, a test) is read out twice. Calls ask
for answering-machine detection: a machine that picks up is hung up on and the attempt
counts as not reaching the person (incidents.notify.phone.status)."""

from __future__ import annotations

from incidents.notify.transports import twilio_api


class VoiceTransport(twilio_api.TwilioTransport):
    channel = "voice"

    def send(self, notification, number: str) -> None:
        twilio_api.call_place(notification, to=number)
