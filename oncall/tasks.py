"""Celery tasks: thin wrappers that call services."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from oncall import handoff, task_names


@shared_task(name=task_names.SEND_HANDOFF_NOTICES, ignore_result=True)
def send_handoff_notices(now: str | None = None) -> int:
    """Beat, every minute: email people whose shift starts soon. Safe to run twice (each
    notice is claimed by a unique row). ``now`` (ISO 8601) is for tests and replays."""
    return handoff.handoff_notices_send(now=datetime.fromisoformat(now) if now else None)
