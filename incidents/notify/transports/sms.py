"""The SMS transport (Twilio Messaging): a page as one short text with its reply codes
(incidents.notify.phone_text), a bundle of pages as one text, anything else (a verification
code, a test) as its plain text. The reply comes back to incidents.notify.phone."""

from __future__ import annotations

from incidents.notify import message, phone_text
from incidents.notify.transports import twilio_api


def sms_body(notification) -> str:
    pages = message.phone_pages(notification)
    if not pages:
        return phone_text.plain_sms(notification.text)
    return phone_text.bundle_sms(pages)


class SmsTransport(twilio_api.TwilioTransport):
    channel = "sms"

    def send(self, notification, number: str) -> None:
        twilio_api.message_send(notification, to=number, body=sms_body(notification))
