"""Handoff notices (sent by incidents.notify.handoffs), delivered to a real local SMTP server
(aiosmtpd) with explicit `now`s.

The schedule: Europe/Berlin, daily handoffs at 09:00 between manager and responder from
Fri 27 March 2026; on Sunday 29 March (first day of CEST) 09:00 is 07:00 UTC, manager's turn.
"""

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from incidents.notify import handoffs
from oncall import services
from oncall.models import HandoffNotice, Schedule
from oncall.tests import factories
from tests.support import wait_for

HANDOFF = datetime(2026, 3, 29, 7, tzinfo=UTC)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def mail_to(settings, smtp):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return smtp


@pytest.fixture
def schedule(team, users):
    for name, user in users.items():
        user.email = f"{name}@example.test"
        user.save()
    return factories.schedule(
        team,
        [
            factories.layer(
                "primary",
                [users["manager"], users["responder"]],
                handoff_start=datetime(2026, 3, 27, 9),
            )
        ],
    )


def recipients(inbox) -> list[str]:
    return [address for rcpt, _ in inbox.messages for address in rcpt]


@pytest.mark.django_db
def test_it_emails_the_incoming_person_once(schedule, mail_to):
    now = HANDOFF - timedelta(minutes=20)
    assert handoffs.handoff_notices_send(now=now) == 1
    assert handoffs.handoff_notices_send(now=now) == 0
    assert handoffs.handoff_notices_send(now=now + timedelta(minutes=1)) == 0
    assert recipients(mail_to) == ["manager@example.test"]
    _, message = mail_to.messages[0]
    assert message["Subject"] == "On call soon: Primary from Sun 29 Mar 2026 07:00 UTC"
    body = message.get_content()
    assert "from Sun 29 Mar 2026 07:00 UTC" in body
    assert "to   Mon 30 Mar 2026 07:00 UTC" in body
    assert "schedule time: Sun 29 Mar 2026 09:00 CEST" in body
    assert f"/schedules/{schedule.pk}/" in body
    notice = HandoffNotice.objects.get()
    assert (notice.user.username, notice.shift_start) == ("manager", HANDOFF)
    assert notice.sent_at is not None


@pytest.mark.django_db
def test_it_waits_for_the_lead_time(schedule, mail_to):
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=31)) == 0
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=30)) == 1


@pytest.mark.django_db
def test_it_still_sends_just_after_the_start_when_beat_is_late(schedule, mail_to):
    assert handoffs.handoff_notices_send(now=HANDOFF + timedelta(minutes=5)) == 1
    assert handoffs.handoff_notices_send(now=HANDOFF + timedelta(minutes=11)) == 0  # stale
    assert recipients(mail_to) == ["manager@example.test"]


@pytest.mark.django_db
def test_it_uses_each_schedules_lead_time_and_zero_turns_it_off(schedule, mail_to):
    services.schedule_update(schedule=schedule, handoff_notice_seconds=2 * 3600)
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=110)) == 1
    Schedule.objects.update(handoff_notice_seconds=0)
    HandoffNotice.objects.all().delete()
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=10)) == 0


@pytest.mark.django_db
def test_it_does_not_tell_someone_already_on_call(schedule, users, mail_to):
    # manager covers the two hours before their own shift: at 07:00 only the source changes.
    services.override_create(
        schedule=schedule,
        user=users["manager"],
        start=HANDOFF - timedelta(hours=2),
        end=HANDOFF,
    )
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=10)) == 0
    assert mail_to.messages == []


@pytest.mark.django_db
def test_it_notifies_an_override_in_the_users_time_zone(schedule, users, mail_to):
    services.profile_update(user=users["viewer"], time_zone="America/New_York")
    services.override_create(
        schedule=schedule,
        user=users["viewer"],
        start=HANDOFF + timedelta(hours=3),
        end=HANDOFF + timedelta(hours=5),
    )
    assert handoffs.handoff_notices_send(now=HANDOFF + timedelta(hours=3, minutes=-15)) == 1
    ((rcpt, message),) = mail_to.messages
    assert rcpt == ["viewer@example.test"]
    assert "from Sun 29 Mar 2026 06:00 EDT" in message.get_content()
    assert "as an override" in message.get_content()


@pytest.mark.django_db
def test_it_skips_and_records_a_user_without_an_address(schedule, users, mail_to):
    users["manager"].email = ""
    users["manager"].save()
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=5)) == 0
    assert HandoffNotice.objects.get().skipped_reason == "no email address"
    assert mail_to.messages == []


@pytest.mark.django_db
def test_it_retries_a_failed_send_on_the_next_run(schedule, settings, smtp):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    now = HANDOFF - timedelta(minutes=5)
    assert handoffs.handoff_notices_send(now=now) == 0
    assert not HandoffNotice.objects.exists()

    settings.EMAIL_PORT = smtp.port
    assert handoffs.handoff_notices_send(now=now + timedelta(minutes=1)) == 1
    assert recipients(smtp) == ["manager@example.test"]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_it_runs_the_beat_task_on_a_real_worker(schedule, smtp, worker_env, make_worker):
    from incidents.tasks import send_handoff_notices

    worker_env["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp.port}"
    make_worker()
    now = (HANDOFF - timedelta(minutes=10)).isoformat()
    send_handoff_notices.delay(now=now)
    send_handoff_notices.delay(now=now)  # delivered twice: still one email
    wait_for(lambda: smtp.messages, timeout=20, message="no handoff email arrived")
    wait_for(
        lambda: HandoffNotice.objects.filter(sent_at__isnull=False).exists(),
        message="the notice was not recorded",
    )
    assert recipients(smtp) == ["manager@example.test"]


@pytest.fixture
def receiver(settings):
    from incidents.tests.notify_support import allow_loopback, running_receiver

    allow_loopback(settings)
    yield from running_receiver()


@pytest.mark.django_db
def test_it_goes_at_once_to_every_verified_method_marked_for_handoffs(
    schedule, users, mail_to, receiver
):
    """Any channel: here a webhook and an Apprise (json://) receiver; an unverified method
    and one not marked for handoffs get nothing, and the account email is not used."""
    import json

    from incidents.models import ContactMethod, Notification, NotificationStatus
    from incidents.notify import sending

    manager = users["manager"]
    marked = dict(user=manager, notify_handoffs=True, verified_at=HANDOFF)
    hook = ContactMethod.objects.create(kind="webhook", address=receiver.url, **marked)
    chat = ContactMethod.objects.create(
        kind="apprise",
        address="json://127.0.0.1/…",
        secret_target=receiver.url.replace("http://", "json://"),
        **marked,
    )
    ContactMethod.objects.create(
        user=manager, kind="email", address="unverified@example.test", notify_handoffs=True
    )
    ContactMethod.objects.create(
        user=manager, kind="email", address="pages-only@example.test", verified_at=HANDOFF
    )
    now = HANDOFF - timedelta(minutes=20)
    assert handoffs.handoff_notices_send(now=now) == 1
    assert handoffs.handoff_notices_send(now=now) == 0
    rows = Notification.objects.filter(reason="handoff").order_by("contact_method_id")
    assert [row.contact_method_id for row in rows] == [hook.pk, chat.pk]
    assert {row.next_attempt_at for row in rows} == {now}  # at once, no delay rules
    for row in rows:
        assert sending.notification_send(notification_id=row.pk) == NotificationStatus.SENT
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert all("On call soon: Primary" in json.dumps(body) for body in bodies)
    assert len(bodies) == 2
    assert mail_to.messages == []
