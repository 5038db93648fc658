"""Apprise URLs (discord://..., ntfys://..., tgram://..., json://host/path): which service
one names, which host it makes Apprise connect to, and a masked form safe to show and log.
The URL itself carries tokens: it is stored encrypted (ContactMethod.secret_target)."""

from __future__ import annotations

from urllib.parse import urlsplit

import apprise


def plugin(url: str):
    """The Apprise notifier for `url`, or None when Apprise does not know it."""
    try:
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)
    except Exception:
        return None


def target_host(notifier) -> str | None:
    """The host Apprise will connect to: the service's own API for hosted services
    (Discord, Telegram, Pushover: their `notify_url`), else the server named in the URL
    (ntfy, Gotify, Mattermost, json://...). None for notifiers that send nothing over the
    network (desktop notifications, syslog)."""
    fixed = getattr(notifier, "notify_url", None)
    if isinstance(fixed, str) and fixed.startswith(("http://", "https://")):
        return urlsplit(fixed).hostname
    host = getattr(notifier, "host", None)
    return host if isinstance(host, str) and host else None


def masked(notifier) -> str:
    """The URL with its secrets elided (Apprise's privacy form), without the default
    options it appends."""
    return notifier.url(privacy=True).split("?", 1)[0]


def service_name(notifier) -> str:
    return str(getattr(notifier, "service_name", type(notifier).__name__))
