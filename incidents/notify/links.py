"""Acknowledge and resolve links in messages: minted here, one per (incident, recipient,
action, channel) and message. Only the SHA-256 of a token is stored; the token itself
appears in the message and nowhere else (never in logs)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings

from incidents.models import ActionToken, Incident, LinkAction

# The path of a link; the view (GET: confirmation page, POST: act) lives at /a/<token>/.
PATH = "/a/{token}/"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_mint(*, incident: Incident, user_id: int, action: str, channel: str, now: datetime) -> str:
    """A new one-use link for `user_id` to `action` the incident; returns its URL."""
    if action not in LinkAction.values:
        raise ValueError(f"unknown action {action!r}")
    token = secrets.token_urlsafe(32)
    ActionToken.objects.create(
        token_hash=token_hash(token),
        incident=incident,
        user_id=user_id,
        action=action,
        channel=channel,
        created_at=now,
        expires_at=now + timedelta(hours=settings.PAGERLINE_ACTION_LINK_HOURS),
    )
    return settings.PAGERLINE_BASE_URL + PATH.format(token=token)


def links_mint(*, incident: Incident, user_id: int, channel: str, now: datetime) -> dict:
    """{"acknowledge": url, "resolve": url} for one message to one person."""
    return {
        action: link_mint(
            incident=incident, user_id=user_id, action=action, channel=channel, now=now
        )
        for action in LinkAction.values
    }
