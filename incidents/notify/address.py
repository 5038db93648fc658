"""Is this a usable address for a channel? One rule for the model (admin), the contact method
service (pages and API) and nothing else. No database.

Webhooks and Apprise URLs go to public addresses only, unless an admin lists a private
network in PAGERLINE_WEBHOOK_PRIVATE_NETWORKS: a contact method must not make the worker POST
to the cloud metadata service, Redis or anything else on the inside. A URL naming a private
IP (or localhost) is refused when it is saved; a host name is checked where it resolves,
when the message is sent (incidents.notify.transports.webhook and .apprise).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from incidents.notify import apprise_url

MAX_LENGTH = 1000
PHONE_KINDS = ("sms", "voice")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_URL = URLValidator(schemes=["http", "https"])
# Slack ids: a user (U..., or W... on Enterprise Grid) and a channel (C... public, G... private).
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{6,20}")
_SLACK_CHANNEL = re.compile(r"[CG][A-Z0-9]{6,20}")


def address_problem(kind: str, address: object) -> str | None:
    """What is wrong with `address` for a contact method of `kind`, or None if it is fine."""
    if not isinstance(address, str) or not address.strip():
        return "Enter an address."
    if len(address) > MAX_LENGTH:
        return f"At most {MAX_LENGTH} characters."
    if address != address.strip() or any(ord(c) < 32 or ord(c) == 127 for c in address):
        return "Remove the spaces and control characters around or inside the address."
    if kind == "email":
        try:
            validate_email(address)
        except ValidationError:
            return "Enter a valid email address."
        return None
    if kind == "webhook":
        return _url_problem(address)
    if kind == "apprise":
        return _apprise_problem(address)
    if kind == "slack":
        if not _SLACK_USER.fullmatch(address):
            return (
                "Enter your Slack member ID (e.g. U0123ABCD: in Slack, your profile, "
                "⋮ More, Copy member ID), not your name."
            )
        return None
    if kind in PHONE_KINDS:
        return phone_problem(address)
    return "Unknown kind of contact method."


def _apprise_problem(address: str) -> str | None:
    notifier = apprise_url.plugin(address)
    if notifier is None:
        return (
            "Apprise does not recognise this URL; see its list of services "
            "(e.g. discord://webhook_id/webhook_token, ntfys://ntfy.sh/topic)."
        )
    host = apprise_url.target_host(notifier)
    if host is None:
        return f"{apprise_url.service_name(notifier)} does not send over the network."
    return host_problem(host, settings.PAGERLINE_WEBHOOK_PRIVATE_NETWORKS)


def slack_channel_problem(channel: str) -> str | None:
    """What is wrong with a service's Slack channel (blank: no channel posts)."""
    if channel and not _SLACK_CHANNEL.fullmatch(channel):
        return (
            "Enter the channel's ID (e.g. C0123ABCD: the channel's details, at the bottom), "
            "not its name."
        )
    return None


def phone_problem(number: str) -> str | None:
    """SMS and calls go to E.164 numbers, as Twilio takes them: + and 8 to 15 digits."""
    if _E164.fullmatch(number) is None:
        return (
            "Enter the number in international form: + and the country code, then the "
            "number, digits only (+4915112345678)."
        )
    return None


def _url_problem(address: str) -> str | None:
    parts = urlsplit(address)
    if parts.scheme.lower() not in {"http", "https"}:
        return "Enter an http:// or https:// URL."
    # Credentials in a URL end up in logs and breaker keys; receivers should check the
    # X-Pagerline-Signature header instead.
    if "@" in parts.netloc:
        return "URLs with a user name or password are not accepted; verify the signature instead."
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return "Enter a valid port number."
    if not parts.hostname:
        return "Enter a URL with a host name."
    try:
        _URL(address)
    except ValidationError:
        return "Enter a valid URL."
    return host_problem(parts.hostname, settings.PAGERLINE_WEBHOOK_PRIVATE_NETWORKS)


def refused_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allowed: Iterable) -> bool:
    """True for an address webhooks are not sent to: anything not globally routable
    (loopback, private, link-local such as 169.254.169.254, shared, reserved) or multicast,
    unless it is in one of the `allowed` networks."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(network.version == ip.version and ip in network for network in allowed):
        return False
    return not ip.is_global or ip.is_multicast


def refusal(host: str, ip: object) -> str:
    where = host if str(ip) == host else f"{host} ({ip})"
    return (
        f"{where} is a private address: webhooks only go to public addresses unless an "
        "administrator allows its network (PAGERLINE_WEBHOOK_PRIVATE_NETWORKS)."
    )


def host_problem(host: str, allowed: Iterable) -> str | None:
    """What is wrong with a webhook's host as written (an IP or localhost); names that need
    resolving are checked when the webhook is sent."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        ip = ipaddress.ip_address("127.0.0.1")
    else:
        try:
            ip = ipaddress.ip_address(name)
        except ValueError:
            return None
    return refusal(host, ip) if refused_ip(ip, allowed) else None


def redacted(kind: str, address: str) -> str:
    """An address safe for the audit log: a webhook URL's path and query often hold a secret
    (Slack's incoming webhooks do), so only its scheme and host are kept; of a phone
    number, only the last four digits; an Apprise method's address is already masked."""
    if kind in PHONE_KINDS:
        return f"+…{address[-4:]}"
    if kind != "webhook":
        return address
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}/…"
