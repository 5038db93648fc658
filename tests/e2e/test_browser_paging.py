"""A person's paging on a phone (390 px wide, a real Chromium against a real gunicorn):
their notification rules page, and an acknowledge link opened from a message."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.browser import PHONE, log_in, set_server_password, too_wide

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_rules_are_added_and_removed_on_a_phone(browsing, make_web, users):
    from incidents.models import ContactMethod, NotificationRule

    user = users["responder"]
    ContactMethod.objects.create(
        user=user, kind="email", address="responder@example.com", verified_at=timezone.now()
    )
    ContactMethod.objects.create(
        user=user,
        kind="webhook",
        address="https://hooks.example.com/services/T000/B000/responder-phone",
        verified_at=timezone.now(),
    )
    set_server_password(user)
    web = make_web()
    page = browsing.page
    page.set_viewport_size(PHONE)
    log_in(browsing, web.url, "responder")
    page.goto(f"{web.url}/account/notification-rules/")
    high = page.locator("[data-urgency=high]")
    expect(high).to_contain_text("No rules: a high-urgency page reaches every method below")

    high.get_by_label("After (minutes)").fill("2")
    high.get_by_label("Contact method").select_option(
        label="Webhook (Slack-compatible): "
        "https://hooks.example.com/services/T000/B000/responder-phone"
    )
    high.get_by_role("button", name="Add").click()
    expect(page.locator(".flash")).to_contain_text("High urgency: after 2 min")
    expect(high.locator("li[data-rule]")).to_contain_text("after 2 min")

    high.get_by_label("After (minutes)").fill("2000")
    high.get_by_role("button", name="Add").click()
    expect(page.locator("[data-urgency=high] [data-role=delay-error]")).to_be_visible()
    # The refused form is answered 400 on purpose, which Chromium logs as a failed load.
    assert all("400 (Bad Request)" in error for error in browsing.console_errors)
    browsing.console_errors.clear()
    assert too_wide(page) == [], "the rules page is wider than the phone"
    browsing.shot("rules-on-a-phone")

    page.locator("[data-urgency=high] li[data-rule]").get_by_role("button").click()
    expect(page.locator(".flash")).to_contain_text("Rule removed.")
    assert not NotificationRule.objects.exists()
    browsing.assert_clean()


def test_an_acknowledge_link_opened_on_a_phone(browsing, make_web, users, service):
    from incidents.models import Incident
    from incidents.notify import links
    from incidents.tests.factories import make_alert_incident

    incident = make_alert_incident(service, timezone.now(), title="Checkout is down for everyone")
    url = links.link_mint(
        incident=incident,
        user_id=users["responder"].pk,
        action="acknowledge",
        channel="email",
        now=timezone.now(),
    )
    web = make_web()
    page = browsing.page
    page.set_viewport_size(PHONE)
    page.goto(web.url + url.removeprefix(settings.PAGERLINE_BASE_URL))  # not signed in
    button = page.get_by_role("button", name=f"Acknowledge #{incident.pk}")
    expect(button).to_be_visible()
    expect(page.locator("[data-role=status]")).to_have_text("triggered")
    assert too_wide(page) == [], "the link page is wider than the phone"
    browsing.shot("link-before")
    assert Incident.objects.get().status == "triggered"

    button.click()
    expect(page.locator("h1")).to_contain_text("acknowledged by responder")
    expect(page.locator("[data-role=status]")).to_have_text("acknowledged")
    browsing.shot("link-after")
    assert Incident.objects.get().status == "acknowledged"
    browsing.assert_clean()
