"""A manager connects a sender in the browser (a real Chromium against a real gunicorn and
Celery worker): creates an integration, copies its webhook URL, sends a test alert and
sees the delivery listed, on a desktop and on a 390 px phone."""

from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.browser import PHONE, log_in, set_server_password, severe_violations, too_wide
from tests.support import fixture_json, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_a_manager_connects_alertmanager_and_sends_a_test_alert(
    browsing, make_web, celery_worker, users, service
):
    from incidents.models import AlertDelivery, Incident

    set_server_password(users["manager"])
    web = make_web()
    page = browsing.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web.url)
    log_in(browsing, web.url, "manager")

    page.goto(f"{web.url}/services/checkout/integrations/")
    expect(page.get_by_role("heading", name="Integrations of Checkout")).to_be_visible()
    page.get_by_label("Sender").select_option(label="Prometheus Alertmanager")
    page.get_by_label("Name").fill("Prometheus production")
    page.get_by_role("button", name="Create integration").click()
    expect(page.get_by_role("heading", name="Prometheus production")).to_be_visible()
    shown = page.locator("[data-role=webhook-url]").inner_text()
    assert shown.startswith("http") and "/hooks/alertmanager/" in shown
    expect(page.locator("[data-role=snippet]").first).to_contain_text(f'url: "{shown}"')
    browsing.shot("01-integration-created")

    page.get_by_role("button", name="Copy URL").click()
    expect(page.locator("[data-role=copy-status]")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == shown

    # The copied URL takes Alertmanager's webhook on this server.
    path = "/hooks/" + shown.split("/hooks/", 1)[1]
    response = requests.post(
        f"{web.url}{path}",
        data=json.dumps(fixture_json("alertmanager/firing.json")),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 202, response.text

    page.get_by_role("button", name="Send a test alert").click()
    expect(page.locator(".flash", has_text="Test alert sent")).to_be_visible()
    # Later visits never show the URL again.
    expect(page.locator("[data-role=webhook-url]")).to_have_count(0)
    wait_for(
        lambda: AlertDelivery.objects.filter(status="processed").count() == 2,
        timeout=20,
        message="the worker did not process both deliveries",
    )
    assert Incident.objects.filter(title__startswith="[TEST]").count() == 1
    page.reload()
    rows = page.locator("table.deliveries tr[data-delivery]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("[TEST] Test alert from Pagerline, sent by manager")
    expect(rows.first).to_have_attribute("data-status", "processed")
    browsing.shot("02-deliveries")
    assert severe_violations(page) == []

    page.set_viewport_size(PHONE)
    assert too_wide(page) == [], "the integration page is wider than the phone"
    browsing.shot("03-integration-on-a-phone")
    page.goto(f"{web.url}/services/checkout/integrations/")
    assert too_wide(page) == [], "the integrations list is wider than the phone"
    assert severe_violations(page) == []
    browsing.assert_clean()
