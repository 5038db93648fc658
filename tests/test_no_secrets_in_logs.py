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
