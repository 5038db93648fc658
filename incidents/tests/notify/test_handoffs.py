"""Handoff notices (sent by incidents.notify.handoffs), delivered to a real local SMTP server
(aiosmtpd) with explicit `now`s.

The schedule: Europe/Berlin, daily handoffs at 09:00 between manager and responder from
Fri 27 March 2026; on Sunday 29 March (first day of CEST) 09:00 is 07:00 UTC, manager's turn.
"""

from datetime import UTC, datetime, timedelta

import pytest

from incidents.notify import handoffs
from oncall import services
from oncall.models import HandoffNotice, Schedule
from oncall.tests import factories
from tests.peers import free_port, send_email_to
from tests.support import wait_for

HANDOFF = datetime(2026, 3, 29, 7, tzinfo=UTC)


@pytest.fixture
def schedule(team, users):
    for name, user in users.items():
        user.email = f"{name}@example.test"
        user.save()
    return factories.make_schedule(
        team,
        [
            factories.layer(
                "primary",
                [users["manager"], users["responder"]],
                handoff_start=datetime(2026, 3, 27, 9),
            )
        ],
    )


@pytest.mark.django_db
def test_it_emails_the_incoming_person_once(schedule, smtp):
    now = HANDOFF - timedelta(minutes=20)
    assert handoffs.handoff_notices_send(now=now) == 1
    assert handoffs.handoff_notices_send(now=now) == 0
    assert handoffs.handoff_notices_send(now=now + timedelta(minutes=1)) == 0
    assert smtp.recipients == ["manager@example.test"]
    message = smtp.messages[0]
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
def test_it_waits_for_the_lead_time(schedule, smtp):
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=31)) == 0
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=30)) == 1


@pytest.mark.django_db
def test_it_still_sends_just_after_the_start_when_beat_is_late(schedule, smtp):
    assert handoffs.handoff_notices_send(now=HANDOFF + timedelta(minutes=5)) == 1
    assert handoffs.handoff_notices_send(now=HANDOFF + timedelta(minutes=11)) == 0  # stale
    assert smtp.recipients == ["manager@example.test"]


@pytest.mark.django_db
def test_it_uses_each_schedules_lead_time_and_zero_turns_it_off(schedule, smtp):
    services.schedule_update(schedule=schedule, handoff_notice_seconds=2 * 3600)
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=110)) == 1
    Schedule.objects.update(handoff_notice_seconds=0)
    HandoffNotice.objects.all().delete()
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=10)) == 0


@pytest.mark.django_db
def test_it_does_not_tell_someone_already_on_call(schedule, users, smtp):
    # manager covers the two hours before their own shift: at 07:00 only the source changes.
    services.override_create(
        schedule=schedule,
        user=users["manager"],
        start=HANDOFF - timedelta(hours=2),
        end=HANDOFF,
    )
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=10)) == 0
    assert smtp.messages == []


@pytest.mark.django_db
def test_it_notifies_an_override_in_the_users_time_zone(schedule, users, smtp):
    services.profile_update(user=users["viewer"], time_zone="America/New_York")
    services.override_create(
        schedule=schedule,
        user=users["viewer"],
        start=HANDOFF + timedelta(hours=3),
        end=HANDOFF + timedelta(hours=5),
    )
    assert handoffs.handoff_notices_send(now=HANDOFF + timedelta(hours=3, minutes=-15)) == 1
    (envelope,) = smtp.envelopes
    (message,) = smtp.messages
    assert envelope.rcpt_tos == ["viewer@example.test"]
    assert "from Sun 29 Mar 2026 06:00 EDT" in message.get_content()
    assert "as an override" in message.get_content()


@pytest.mark.django_db
def test_it_skips_and_records_a_user_without_an_address(schedule, users, smtp):
    users["manager"].email = ""
    users["manager"].save()
    assert handoffs.handoff_notices_send(now=HANDOFF - timedelta(minutes=5)) == 0
    assert HandoffNotice.objects.get().skipped_reason == "no email address"
    assert smtp.messages == []


@pytest.mark.django_db
def test_it_retries_a_failed_send_on_the_next_run(schedule, settings, smtp):
    send_email_to(settings, free_port())  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    now = HANDOFF - timedelta(minutes=5)
    assert handoffs.handoff_notices_send(now=now) == 0
    assert not HandoffNotice.objects.exists()

    settings.EMAIL_PORT = smtp.port
    assert handoffs.handoff_notices_send(now=now + timedelta(minutes=1)) == 1
    assert smtp.recipients == ["manager@example.test"]


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
    assert smtp.recipients == ["manager@example.test"]
