from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.utils import timezone

from core.audit import audit_record
from core.models import ApiToken, hash_api_token

TOKEN_PREFIX = "pl_"  # noqa: S105 - a public marker, not a secret
# last_used_at is written at most this often per token, so API calls don't each write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned now and never again."""
    name = name.strip()
    if not name:
        raise ValueError("name: give the token a name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], token_hash=hash_api_token(plain), prefix=plain[:10]
    )
    audit_record(
        actor=user,
        action="api_token.created",
        obj=token,
        summary=f"API token {token.name!r} created",
    )
    return token, plain


def api_token_revoke(*, token: ApiToken, at: datetime | None = None) -> None:
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=at or timezone.now()
    )
    if revoked:
        audit_record(
            actor=token.user,
            action="api_token.revoked",
            obj=token,
            summary=f"API token {token.name!r} revoked",
        )


def api_token_authenticate(plain: str, *, now: datetime | None = None) -> ApiToken | None:
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_api_token(plain), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
