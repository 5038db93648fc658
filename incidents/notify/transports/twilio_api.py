"""Twilio's Messaging and Voice REST APIs, through the official `twilio` client with its API
domain pointed at TWILIO_API_BASE_URL (a local stand-in in tests, never changed otherwise).
Shared by the sms and voice transports.

Twilio's 4xx answers (21211: not a valid phone number, 21610: the person replied STOP...)
will fail the same way again: permanent. A 429 (too many requests), a 5xx, a timeout or a
connection that fails is retried with backoff.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from incidents.models import Notification
from incidents.notify import address
from incidents.notify.transports import TransportError

TIMEOUT_SECONDS = 10.0
_RETRIED_4XX = {408, 429}


def endpoint() -> str:
    """The circuit breaker's key: Twilio's API, whichever channel."""
    return f"twilio:{urlsplit(settings.TWILIO_API_BASE_URL).netloc or 'unset'}"


def public_url(name: str, *args) -> str:
    """The address Twilio calls back at (a Pagerline URL by name)."""
    return settings.PAGERLINE_BASE_URL + reverse(name, args=args)


def _client() -> Client:
    missing = [
        name
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
        if not getattr(settings, name)
    ]
    if missing:
        raise TransportError(f"Twilio is not configured: set {', '.join(missing)}", permanent=True)
    # environment={}: TWILIO_EDGE / TWILIO_REGION would rewrite the host of the base URL.
    client = Client(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        environment={},
        http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS),
    )
    client.api.base_url = settings.TWILIO_API_BASE_URL
    return client


def _create(resource: str, fields: dict) -> tuple[str, str]:
    """Create a Message or Call; its (sid, status)."""
    client = _client()
    account = client.api.v2010.account
    try:
        created = getattr(account, resource).create(from_=settings.TWILIO_FROM_NUMBER, **fields)
    except TwilioRestException as exc:
        code = f" (code {exc.code})" if exc.code else ""
        permanent = 400 <= exc.status < 500 and exc.status not in _RETRIED_4XX
        raise TransportError(f"Twilio {exc.status}{code}: {exc.msg}", permanent=permanent) from exc
    except requests.Timeout as exc:
        raise TransportError(
            f"Twilio gave no answer within {TIMEOUT_SECONDS:g} s", permanent=False
        ) from exc
    except (requests.RequestException, TwilioException) as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
    if not created.sid:
        raise TransportError("Twilio answered without a SID", permanent=False)
    return created.sid, created.status or ""


def _record(notification, sid: str, status: str) -> None:
    """Keep the SID, so status callbacks find this attempt (Notification.provider_id)."""
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        provider_id=sid, delivery_status=str(status), delivery_updated_at=now
    )
    notification.provider_id, notification.delivery_status = sid, str(status)
    notification.delivery_updated_at = now


def message_send(notification, *, to: str, body: str) -> str:
    sid, status = _create(
        "messages",
        {"to": to, "body": body, "status_callback": public_url("twilio-status")},
    )
    _record(notification, sid, status)
    return sid


def call_place(notification, *, to: str) -> str:
    sid, status = _create(
        "calls",
        {
            "to": to,
            "url": public_url("twilio-call", notification.pk),
            "method": "POST",
            "status_callback": public_url("twilio-status"),
            "status_callback_method": "POST",
            # Twilio tells the call's Url (AnsweredBy) whether a person or a machine picked
            # up: voicemail must not count as reaching the person (phone.status).
            "machine_detection": "Enable",
        },
    )
    _record(notification, sid, status)
    return sid


class TwilioTransport:
    """What the sms and voice transports share: Twilio's breaker, the number's check."""

    channel = ""

    def endpoint(self, contact_method) -> str:
        return endpoint()

    def notify(self, notification) -> None:
        number = notification.contact_method.address
        problem = address.address_problem(self.channel, number)
        if problem:
            raise TransportError(f"invalid phone number: {problem}", permanent=True)
        self.send(notification, number)

    def send(self, notification, number: str) -> None:
        raise NotImplementedError
