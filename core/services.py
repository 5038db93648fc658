from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import models, transaction
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


def user_deletion_refusal(*, user) -> str | None:
    """Why `user` cannot be deleted, or None if they can.

    What keeps a user is declared once, where the history is kept: a foreign key to them
    with on_delete PROTECT (e.g. the incident timelines). This reads those declarations, so
    core needs to know no other app, and a message names what is kept.
    """
    kept = [
        str(relation.related_model._meta.verbose_name_plural)
        for relation in user._meta.related_objects
        if relation.on_delete in (models.PROTECT, models.RESTRICT)
        and relation.related_model._base_manager.filter(**{relation.field.name: user}).exists()
    ]
    if not kept:
        return None
    return (
        f"{user.get_username()} has {' and '.join(kept)}, so the account cannot be deleted; "
        "deactivate it instead (a deactivated user cannot sign in or use API tokens, "
        "and stays named where they acted)."
    )


@transaction.atomic
def user_deactivate(*, user, by=None) -> bool:
    """A user who leaves: no more sign-in, sessions or API tokens; their history stays theirs.

    True if this call deactivated them, False if they already were."""
    changed = get_user_model().objects.filter(pk=user.pk, is_active=True).update(is_active=False)
    user.is_active = False
    if changed:
        audit_record(
            actor=by,
            action="user.deactivated",
            obj=user,
            summary=f"User {user.get_username()!r} deactivated",
        )
    return bool(changed)
