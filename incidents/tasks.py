"""Celery tasks: thin wrappers that take ids (or nothing) and call services."""

from celery import shared_task

from incidents import task_names
from incidents.intake import drain, heartbeats


@shared_task(name=task_names.DRAIN_DELIVERIES, ignore_result=True)
def drain_deliveries() -> int:
    return drain.deliveries_drain()


@shared_task(name=task_names.REDRIVE_DELIVERIES, ignore_result=True)
def redrive_deliveries() -> int:
    """Beat safety net: drain if a delivery waited too long (lost kick, killed worker)."""
    if drain.deliveries_overdue():
        return drain.deliveries_drain()
    return 0


@shared_task(name=task_names.PURGE_DELIVERIES, ignore_result=True)
def purge_deliveries() -> int:
    """Beat: remove raw webhook bodies past their retention (small batches, time-boxed)."""
    from incidents.intake import retention

    result = retention.deliveries_purge_once()
    return result.deleted if result else 0


@shared_task(name=task_names.CHECK_HEARTBEATS, ignore_result=True)
def check_heartbeats() -> int:
    """Open (or resolve) "no heartbeat" incidents for integrations that expect one."""
    return heartbeats.heartbeats_check()


@shared_task(name=task_names.ESCALATE, ignore_result=True)
def escalate(escalation_id: int, token: str) -> str:
    """One scheduled escalation firing (an ETA task); a stale token does nothing."""
    from incidents.escalation import runs

    return runs.escalation_advance(escalation_id=escalation_id, token=token)


@shared_task(name=task_names.ESCALATE_MANY, ignore_result=True)
def escalate_many(pairs: list[list]) -> list[str]:
    """The firings a batch of alerts made due at once, one after the other (each in its
    own transaction); one that fails is logged and left to the auditor."""
    from incidents.escalation import runs

    return runs.escalations_advance(pairs=[(pk, token) for pk, token in pairs])


@shared_task(name=task_names.ESCALATION_AUDIT, ignore_result=True)
def escalation_audit() -> int:
    """Beat safety net: fire escalation steps whose ETA task was lost."""
    from incidents.escalation import runs

    return runs.escalations_audit()


@shared_task(name=task_names.SEND_NOTIFICATION, ignore_result=True)
def send_notification(notification_id: int) -> str:
    from incidents.notify import sending

    return sending.notification_send(notification_id=notification_id)


@shared_task(name=task_names.REDRIVE_NOTIFICATIONS, ignore_result=True)
def redrive_notifications() -> int:
    """Beat safety net: send notifications whose task was lost or whose worker died."""
    from incidents.notify import sending

    return sending.notifications_redrive()


@shared_task(name=task_names.PAGE_STEP, ignore_result=True)
def page_step(page_id: int, token: str) -> str:
    """One step of a person's notification rules (an ETA task); a stale token does nothing."""
    from incidents.notify import pages

    return pages.page_advance(page_id=page_id, token=token)


@shared_task(name=task_names.PAGES_AUDIT, ignore_result=True)
def pages_audit() -> int:
    """Beat safety net: fire personal page steps whose ETA task was lost."""
    from incidents.notify import pages

    return pages.pages_audit()


@shared_task(name=task_names.SEND_HANDOFF_NOTICES, ignore_result=True)
def send_handoff_notices(now: str | None = None) -> int:
    """Beat, every minute: tell people whose shift starts soon, on every channel they chose
    for it. Safe to run twice (each notice is claimed by a unique row). ``now`` (ISO 8601)
    is for tests and replays."""
    from datetime import datetime

    from incidents.notify import handoffs

    return handoffs.handoff_notices_send(now=datetime.fromisoformat(now) if now else None)


@shared_task(name=task_names.SLACK_CHANNEL_POSTS, ignore_result=True)
def slack_channel_posts(incident_ids: list[int], attempt: int = 1) -> int:
    """Post new incidents to their services' Slack channels (once each)."""
    from incidents.notify.slack import messages

    return messages.channel_posts(incident_ids=incident_ids, attempt=attempt)


@shared_task(name=task_names.SLACK_REDRAW, ignore_result=True)
def slack_redraw(incident_ids: list[int], attempt: int = 1) -> int:
    """Redraw the Slack messages of incidents whose state changed."""
    from incidents.notify.slack import messages

    return messages.messages_redraw(incident_ids=incident_ids, attempt=attempt)


@shared_task(name=task_names.SLACK_AUDIT, ignore_result=True)
def slack_audit() -> int:
    """Beat safety net: redraw Slack messages whose redraw task was lost."""
    from incidents.notify.slack import messages

    return messages.messages_audit()
