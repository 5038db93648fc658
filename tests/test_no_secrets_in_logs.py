"""Webhook and calendar URLs carry secrets; Django logs the path of every 4xx/5xx."""

import logging

import pytest

from config.logfilters import redact


@pytest.mark.django_db
def test_a_rejected_webhook_does_not_log_its_token(client, integration, caplog):
    _, token = integration
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.post(
            f"/hooks/alertmanager/{token}", "{not json", content_type="application/json"
        )
    assert response.status_code == 400
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/hooks/alertmanager/[redacted]" in logged
    assert token not in logged


def test_it_redacts_calendar_and_hook_paths_only():
    assert redact("GET /ical/user/s3cr3t.ics 200") == "GET /ical/user/[redacted] 200"
    assert (
        redact("Bad Request: /hooks/pagerduty/abc-123")
        == "Bad Request: /hooks/pagerduty/[redacted]"
    )
    assert redact("Not Found: /incidents/42/") == "Not Found: /incidents/42/"


@pytest.mark.django_db
def test_a_refused_action_link_does_not_log_its_token(client, service, users, caplog):
    """Every refusal of an acknowledge/resolve link (404, 409, 410) is logged by Django with
    its path; the token in it is redacted."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from incidents.notify import links
    from incidents.tests.factories import make_alert_incident
    from incidents.timeline import actions

    incident = make_alert_incident(service, timezone.now())
    expired = links.link_mint(
        incident=incident,
        user_id=users["responder"].pk,
        action="acknowledge",
        channel="email",
        now=timezone.now() - timedelta(days=2),
    ).removeprefix(settings.PAGERLINE_BASE_URL)
    moved = links.link_mint(
        incident=incident,
        user_id=users["responder"].pk,
        action="resolve",
        channel="email",
        now=timezone.now(),
    ).removeprefix(settings.PAGERLINE_BASE_URL)
    actions.incident_resolve(incident_id=incident.pk, user=users["manager"])
    unknown = "/a/" + "q" * 43 + "/"
    with caplog.at_level(logging.INFO):
        assert client.get(expired).status_code == 410
        assert client.post(moved).status_code == 409
        assert client.post(unknown).status_code == 404
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged.count("/a/[redacted]") == 3
    for path in (expired, moved, unknown):
        assert path.split("/")[2] not in logged


def test_it_redacts_action_link_paths():
    assert redact("Gone: /a/AbC-12_x/") == "Gone: /a/[redacted]/"
    assert (
        redact("see https://pager.example/a/AbC-12_x/") == "see https://pager.example/a/[redacted]/"
    )


def test_it_redacts_invitation_and_password_reset_links():
    assert redact("Gone: /invite/s3cr3t-tok/") == "Gone: /invite/[redacted]/"
    assert (
        redact("Not Found: /accounts/reset/MQ/cx1-s3cr3t/")
        == "Not Found: /accounts/reset/MQ/[redacted]/"
    )


def test_a_dead_invitation_link_does_not_log_its_token(client, users, caplog):
    with caplog.at_level(logging.INFO):
        assert client.get("/invite/a-forged-invitation-token-1234/").status_code == 404
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/invite/[redacted]/" in logged and "a-forged-invitation-token" not in logged
