"""Notification transports, one module per channel. Each transport has
`endpoint(contact_method) -> str` (the circuit breaker's key) and
`notify(notification) -> None`, raising TransportError on failure."""

from __future__ import annotations

from typing import Protocol


class TransportError(Exception):
    """Sending failed. `permanent` errors (bad address, 4xx) are never retried."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    channel: str

    def endpoint(self, contact_method) -> str: ...

    def notify(self, notification) -> None: ...


def get(channel: str) -> Transport:
    from incidents.notify.transports.apprise import AppriseTransport
    from incidents.notify.transports.email import EmailTransport
    from incidents.notify.transports.slack import SlackTransport
    from incidents.notify.transports.sms import SmsTransport
    from incidents.notify.transports.voice import VoiceTransport
    from incidents.notify.transports.webhook import WebhookTransport

    transports: dict[str, Transport] = {
        AppriseTransport.channel: AppriseTransport(),
        EmailTransport.channel: EmailTransport(),
        SlackTransport.channel: SlackTransport(),
        WebhookTransport.channel: WebhookTransport(),
        SmsTransport.channel: SmsTransport(),
        VoiceTransport.channel: VoiceTransport(),
    }
    try:
        return transports[channel]
    except KeyError:
        raise TransportError(f"no transport for channel {channel!r}", permanent=True) from None
