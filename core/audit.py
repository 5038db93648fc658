"""Record configuration changes (integrations, policies, schedules, tokens) for managers."""

from __future__ import annotations

from typing import Any

from core.models import AuditEntry

# Never written to the audit log, whatever a caller passes.
SECRET_FIELDS = frozenset({"token", "token_hash", "password", "secret", "hmac_key", "ical_token"})


def audit_record(
    *,
    actor,
    action: str,
    obj: Any,
    summary: str,
    team_id: int | None = None,
    changes: dict | None = None,
) -> AuditEntry:
    clean = {
        key: value
        for key, value in (changes or {}).items()
        if key not in SECRET_FIELDS and not key.endswith("_hash")
    }
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        team_id=team_id,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=str(getattr(obj, "pk", "") or ""),
        summary=summary[:500],
        changes=clean,
    )


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields that changed (values made JSON-friendly)."""

    def plain(value):
        return (
            value
            if isinstance(value, str | int | float | bool | type(None) | list | dict)
            else str(value)
        )

    return {
        key: [plain(before.get(key)), plain(after[key])]
        for key in after
        if before.get(key) != after[key]
    }
