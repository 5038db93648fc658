"""The Apprise transport: Microsoft Teams, Discord, Telegram, Matrix, Mattermost, ntfy,
Pushover, Gotify and the rest, one-way, with acknowledge / resolve links in the message.

The method's URL (decrypted from ContactMethod.secret_target) names a service and a host.
Before each send the host is resolved and every address checked as webhooks are
(public only, unless allowed). Apprise then connects on its own, resolving the name again:
a DNS answer that changes between the check and Apprise's connection (rebinding) is the
gap that remains, documented in docs/paging.md. Apprise reports only success or failure,
so every failure is transient: retried with backoff, and counted toward the host's
circuit breaker.
"""

from __future__ import annotations

import logging

import apprise
from django.conf import settings

from incidents.notify import address, apprise_url, message
from incidents.notify.transports import TransportError
from incidents.notify.transports.webhook import public_addresses

log = logging.getLogger(__name__)


class AppriseTransport:
    channel = "apprise"

    def endpoint(self, contact_method) -> str:
        notifier = apprise_url.plugin(contact_method.secret_target)
        host = apprise_url.target_host(notifier) if notifier else None
        return f"apprise:{host or 'invalid'}"

    def notify(self, notification) -> None:
        url = notification.contact_method.secret_target
        notifier = apprise_url.plugin(url)
        if notifier is None:
            raise TransportError("Apprise does not recognise the stored URL", permanent=True)
        host = apprise_url.target_host(notifier)
        if host is None:
            raise TransportError(
                "this Apprise service sends nothing over the network", permanent=True
            )
        problem = address.host_problem(host, settings.PAGERLINE_WEBHOOK_PRIVATE_NETWORKS)
        if problem:
            raise TransportError(problem, permanent=True)
        public_addresses(host, getattr(notifier, "port", None) or 443)
        timeout = settings.PAGERLINE_WEBHOOK_TIMEOUT_SECONDS
        notifier.socket_connect_timeout = notifier.socket_read_timeout = timeout
        sender = apprise.Apprise()
        sender.add(notifier)
        with apprise.LogCapture(level=logging.WARNING) as captured:
            sent = sender.notify(title=notification.subject, body=message.plain_text(notification))
        if not sent:
            detail = _last_line(captured.getvalue()) or "Apprise reported a failure"
            raise TransportError(f"{apprise_url.masked(notifier)}: {detail}", permanent=False)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
