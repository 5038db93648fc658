"""A new team sets itself up in the browser alone, from an empty database to a test page in
its manager's inbox: the first administrator, a team, then each step of the dashboard's
checklist (service, integration, schedule, escalation policy, a verified contact method, a
test page), each ticking itself off. A real Chromium against a real gunicorn and Celery
worker; email goes to a real local SMTP server (aiosmtpd), read here as the person would
read their inbox."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.browser import PASSWORD
from tests.support import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def _step(page, key: str):
    return page.locator(f".checklist [data-step={key}]")


def _from_checklist(page, base_url: str, key: str, label: str) -> None:
    """Back to the dashboard; the step is still to do; follow its link."""
    page.goto(f"{base_url}/")
    expect(_step(page, key)).to_have_attribute("data-done", "false")
    _step(page, key).get_by_role("link", name=label).click()


def _choose(select, text: str) -> None:
    """Pick the option whose label contains `text`."""
    select.select_option(select.locator("option", has_text=text).first.get_attribute("value"))


def _mail_to(smtp, address: str, subject_part: str):
    def found():
        return next(
            (m for m in smtp.messages if address in m["To"] and subject_part in str(m["Subject"])),
            None,
        )

    return wait_for(found, timeout=30, message=f"no email {subject_part!r} to {address}")


def test_a_team_goes_from_an_empty_database_to_a_test_page_in_the_browser(
    browsing, make_web, make_worker, worker_env, smtp
):
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.exists()
    worker_env["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp.port}"
    make_worker()
    web = make_web()
    page = browsing.page

    # 1. The first visit creates the first administrator.
    page.goto(f"{web.url}/")
    expect(page).to_have_url(re.compile(r"/setup/first-admin/$"))
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create administrator").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()

    # 2. Any user may start a team, and manages it.
    page.goto(f"{web.url}/teams/")
    page.get_by_role("link", name="New team").click()
    page.get_by_label("Name").fill("Payments")
    page.get_by_label("Slug").fill("payments")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_text("you are its manager")).to_be_visible()

    page.goto(f"{web.url}/")
    checklist = page.locator(".checklist[data-team=payments]")
    expect(checklist).to_contain_text("0 of 6 done")
    browsing.shot("01-checklist-empty")

    # 3. A service.
    _from_checklist(page, web.url, "service", "Create a service")
    page.get_by_label("Name").fill("Checkout")
    page.get_by_label("Slug").fill("checkout")
    page.get_by_role("button", name="Create service").click()
    expect(page.get_by_text("Checkout").first).to_be_visible()

    # 4. An integration for Alertmanager, reached from the team's services.
    _from_checklist(page, web.url, "integration", "Connect an alert source (an integration) to it")
    page.get_by_role("link", name="Integrations").first.click()
    page.get_by_label("Sender").select_option(label="Prometheus Alertmanager")
    page.get_by_role("button", name="Create integration").click()
    expect(page.get_by_role("button", name="Copy URL")).to_be_visible()

    # 5. A schedule with one layer: ada, daily, from an hour ago.
    _from_checklist(page, web.url, "schedule", "Make an on-call schedule")
    page.get_by_label("Schedule name").fill("Payments primary")
    layer = page.locator("[data-layer]").nth(0)
    layer.get_by_label("Layer name").fill("Primary")
    layer.get_by_label("Participant 1").select_option("ada")
    layer.get_by_label("Unit").select_option("days")
    an_hour_ago = timezone.localtime(timezone.now() - timedelta(hours=1))
    layer.get_by_label("First handoff").fill(an_hour_ago.strftime("%Y-%m-%dT%H:%M"))
    expect(page.locator("[data-role=preview-oncall] strong")).to_have_text("ada")
    page.get_by_role("button", name="Create schedule").click()
    expect(page.locator("[data-role=oncall-now] strong")).to_have_text("ada")

    # 6. An escalation policy paging that schedule, then the service uses it.
    _from_checklist(page, web.url, "policy", "Make an escalation policy")
    page.get_by_label("Name").fill("Payments default")
    _choose(page.locator("[data-row='0'] select"), "Payments primary")
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_role("heading", name=re.compile("Payments default"))).to_be_visible()
    page.goto(f"{web.url}/services/checkout/settings")
    _choose(page.get_by_label("Escalation policy"), "Payments default")
    page.get_by_role("button", name="Save service").click()

    # 7. An email contact method, verified with the code it received.
    _from_checklist(page, web.url, "contact_method", "Add and verify your contact method")
    page.get_by_label("Kind").select_option("email")
    page.get_by_label("Address").fill("ada@example.com")
    page.get_by_role("button", name="Add").click()
    mail = _mail_to(smtp, "ada@example.com", "verification code")
    code = re.search(r"verification code is (\d{6})", mail.get_body().get_content()).group(1)
    page.get_by_label("Code sent to it").fill(code)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("button", name="Verify")).to_have_count(0)

    # 8. A test page, which arrives.
    _from_checklist(page, web.url, "test_page", "Send yourself a test page")
    sent_at = datetime.now().timestamp()
    page.get_by_role("button", name="Send me a test page").click()
    expect(page.locator(".flash", has_text="Test page sent")).to_be_visible()
    test_mail = _mail_to(smtp, "ada@example.com", "Test page")
    assert smtp.arrived[smtp.messages.index(test_mail)] >= sent_at

    # Every step done: the checklist has gone from the dashboard.
    def checklist_gone():
        page.goto(f"{web.url}/")
        return page.locator(".checklist[data-team=payments]").count() == 0

    wait_for(checklist_gone, timeout=20, message="the checklist is still on the dashboard")
    browsing.shot("02-all-done")
    browsing.assert_clean()
