"""The email transport: a page as a plain-text and HTML message through Django's mail
backend (EMAIL_URL), with links to acknowledge and to resolve the incident (minted for the
recipient at send time: each message, retries too, carries its own one-use links;
incidents.notify.links). A refused recipient is a permanent failure; a server that cannot
be reached is retried."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.utils import timezone

from incidents.notify import links, message
from incidents.notify.transports import TransportError


class EmailTransport:
    channel = "email"

    def endpoint(self, contact_method) -> str:
        if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
            return f"smtp:{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
        return f"email:{settings.EMAIL_BACKEND.rsplit('.', 2)[-2]}"

    def notify(self, notification) -> None:
        address = notification.contact_method.address
        try:
            validate_email(address)
        except ValidationError:
            raise TransportError(f"invalid email address {address!r}", permanent=True) from None
        context = message.context(notification)
        if notification.incident is not None:
            context["links"] = links.links_mint(
                incident=notification.incident,
                user_id=notification.user_id,
                channel=self.channel,
                now=timezone.now(),
            )
        # A bundle (incidents.notify.bundling): every other incident with its own links.
        rows, context["more"] = message.listed(notification)
        context["bundled"] = [
            {
                "incident": row.incident,
                "url": message.incident_url(row.incident),
                "links": message.links_for(row),
            }
            for row in rows[1:]
            if row.incident is not None
        ]
        email = EmailMultiAlternatives(
            subject=notification.subject,
            body=render_to_string("email/notification.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            connection=get_connection(fail_silently=False),
        )
        email.attach_alternative(render_to_string("email/notification.html", context), "text/html")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = all(code >= 500 for code in codes)
            raise TransportError(
                f"recipient refused: {exc.recipients}", permanent=permanent
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx is the server's final answer; 4xx asks us to try again later.
            raise TransportError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
