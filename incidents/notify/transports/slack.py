"""The Slack transport: a DM from the Slack app to the person (chat.postMessage to their
Slack member ID). A page carries the incident with Acknowledge and Resolve buttons and, in
its text, the person's one-use links (incidents.notify.slack.messages), and is redrawn in
place as the incident changes; a verification asks the account to confirm it is theirs
(incidents.notify.slack.linking); a test is plain text. The message's ts is kept as the
notification's provider_id. Unknown users and a bad token are permanent failures; rate
limits and Slack's own trouble are retried."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from incidents.models import Notification, NotificationReason
from incidents.notify.address import address_problem
from incidents.notify.slack import blocks, client, messages
from incidents.notify.transports import TransportError


class SlackTransport:
    channel = "slack"

    def endpoint(self, contact_method) -> str:
        # One breaker for the Slack API: every DM goes through it.
        return f"slack:{urlsplit(settings.SLACK_API_BASE_URL).netloc}"

    def notify(self, notification) -> None:
        method = notification.contact_method
        if address_problem("slack", method.address):
            raise TransportError(f"not a Slack member ID: {method.address!r}", permanent=True)
        try:
            if notification.reason == NotificationReason.VERIFY:
                body = blocks.link_request(
                    username=method.user.get_username(),
                    method_id=method.pk,
                    text=notification.text,
                )
                ts = client.call("chat.postMessage", channel=method.address, **body)["ts"]
            elif notification.incident_id is None:
                text = blocks.escape(notification.text)
                ts = client.call("chat.postMessage", channel=method.address, text=text)["ts"]
            else:
                ts = messages.dm_post(notification=notification)
        except client.SlackError as exc:
            raise TransportError(str(exc), permanent=exc.permanent) from exc
        except KeyError:
            raise TransportError("Slack's answer has no ts", permanent=True) from None
        notification.provider_id = str(ts)[:64]
        Notification.objects.filter(pk=notification.pk).update(provider_id=notification.provider_id)
