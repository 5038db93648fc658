"""Weekly reports reach subscribers by email, through a real local SMTP server (aiosmtpd)."""

from email import message_from_bytes, policy

import pytest
from django.core import mail

from config.celery import app as celery_app
from metrics import reports, tasks
from metrics.models import ReportEmail, ReportSubscription
from metrics.tests.factories import make_subscription
from tests.peers import free_port, send_email_to

pytestmark = pytest.mark.django_db


def test_it_emails_subscribed_members_once(smtp, w43_report, team, users, settings):
    settings.PAGERLINE_BASE_URL = "https://pagerline.example"
    make_subscription(team, users["responder"], email="responder@example.com")
    make_subscription(team, users["viewer"], email="")  # no address: skipped
    # Not a member: skipped.
    make_subscription(team, users["outsider"], email="outsider@example.com")
    assert reports.report_email(report_id=w43_report.pk) == 1

    (envelope,) = smtp.envelopes
    assert envelope.rcpt_tos == ["responder@example.com"]
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == "[Pagerline] Payments weekly report 2026-W43"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "MTTD 5m 0s / 5m 0s / 9m 0s (+100.0%)" in text
    assert "Checkout failover: PASS" in text
    assert "responder: 3 pages, 2 off hours (America/New_York)" in text
    assert "https://pagerline.example/reports/payments/2026-W43/" in text
    assert "MTTD: detected - impact start" in text
    assert "<td>Checkout</td>" in html and "5m 0s / 5m 0s / 9m 0s" in html

    assert reports.report_email(report_id=w43_report.pk) == 0  # already sent
    assert len(smtp.envelopes) == 1
    assert ReportEmail.objects.get().address == "responder@example.com"


def test_a_failed_send_is_retried_next_time(settings, w43_report, team, users):
    make_subscription(team, users["responder"], email="responder@example.com")
    send_email_to(settings, free_port())  # nothing listens there
    with pytest.raises(OSError):
        reports.report_email(report_id=w43_report.pk)
    assert not ReportEmail.objects.exists()


def test_members_subscribe_from_the_report_page(client, users, team, w43_report):
    users["viewer"].email = "viewer@example.com"
    users["viewer"].save()
    client.force_login(users["viewer"])
    page = client.get("/reports/payments/2026-W43/").content.decode()
    assert "Email me this report every week" in page
    response = client.post("/reports/payments/subscribe", {"week": "2026-W43"})
    assert response["Location"] == "/reports/payments/2026-W43/"
    assert ReportSubscription.objects.filter(team=team, user=users["viewer"]).exists()
    client.post("/reports/payments/subscribe")
    assert not ReportSubscription.objects.exists()
    # PostgreSQL cannot compare a week holding a NUL (a 500 once): refused before the toggle.
    response = client.post("/reports/payments/subscribe", {"week": "2026-W43\x00"})
    assert response.status_code == 400
    assert not ReportSubscription.objects.exists()
    client.force_login(users["outsider"])
    assert client.post("/reports/payments/subscribe").status_code == 404


def test_a_missing_report_sends_nothing(smtp):
    assert reports.report_email(report_id=12345) == 0
    assert smtp.envelopes == []


def test_the_monday_task_builds_each_team_once_and_emails_new_snapshots(
    team, users, django_capture_on_commit_callbacks
):
    make_subscription(team, users["manager"], email="manager@example.com")
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.build_weekly_reports() == 2  # payments and the outsider's team
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.build_weekly_reports() == 0
    finally:
        celery_app.conf.task_always_eager = False
    assert [m.to for m in mail.outbox] == [["manager@example.com"]]
    assert mail.outbox[0].subject.startswith("[Pagerline] Payments weekly report ")
