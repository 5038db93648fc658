"""A manager builds a schedule in the schedule editor on a phone (390 px wide, a real Chromium
against a real gunicorn): the preview follows every change before anything is saved, a
mistake is named next to its field, and saving puts the previewed person on call."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.browser import PHONE, log_in, set_server_password, too_wide

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_a_manager_creates_a_two_layer_schedule_watching_the_preview(
    browsing, make_web, users, team
):
    from oncall.models import Schedule

    berlin = ZoneInfo(team.time_zone)
    now = timezone.now().astimezone(berlin)
    an_hour_ago = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    set_server_password(users["manager"])
    web = make_web()
    page = browsing.page
    page.set_viewport_size(PHONE)
    log_in(browsing, web.url, "manager")

    page.goto(f"{web.url}/schedules/")
    page.get_by_role("link", name="New schedule").click()
    expect(page.get_by_role("heading", name="New schedule")).to_be_visible()
    preview = page.locator("#preview")
    status = preview.locator("[data-role=preview-status]")
    oncall = preview.locator("[data-role=preview-oncall]")
    gaps = preview.locator("[data-role=preview-gaps]")
    expect(page.locator("#preview-timeline .main-svg").first).to_be_attached()

    page.get_by_label("Schedule name").fill("Payments primary")
    first = page.locator("[data-layer]").nth(0)
    first.get_by_label("Layer name").fill("Daytime")
    first.get_by_role("button", name="Add participant").click()
    first.get_by_label("Participant 2").select_option("responder")
    first.get_by_label("Unit").select_option("days")
    first.get_by_label("First handoff").fill(an_hour_ago)
    expect(status).to_have_text("As it would be saved.")
    expect(oncall.locator("strong")).to_have_text("manager")
    expect(gaps).to_contain_text("Someone is on call at every moment")

    # A window around now, every day: outside it nobody is on call, which the preview flags.
    first.get_by_role("button", name="Add time window").click()
    window = first.locator("[data-restriction]")
    for day in ("Sat", "Sun"):
        window.get_by_label(day).check()
    window.get_by_label("From").fill((now - timedelta(hours=2)).strftime("%H:%M"))
    window.get_by_label("Until").fill((now + timedelta(hours=2)).strftime("%H:%M"))
    expect(gaps).to_contain_text("Coverage gaps")
    expect(oncall.locator("strong")).to_have_text("manager")
    browsing.shot("01-editor-with-gaps")

    # A mistake is named next to its field, and the preview waits for it to be fixed.
    page.get_by_label("Time zone").fill("Europe/Atlantis")
    expect(page.locator('[data-error-for="time_zone"]')).to_contain_text(
        "Unknown IANA time zone 'Europe/Atlantis'"
    )
    expect(status).to_have_text("Not updated: fix the fields marked in red.")
    page.get_by_label("Time zone").fill(team.time_zone)
    expect(page.locator('[data-error-for="time_zone"]')).to_have_text("")

    page.get_by_role("button", name="Add layer").click()
    second = page.locator("[data-layer]").nth(1)
    second.get_by_label("Layer name").fill("Backup")
    second.get_by_label("Participant 1").select_option("responder")
    second.get_by_label("First handoff").fill(an_hour_ago)
    expect(gaps).to_contain_text("Someone is on call at every moment")
    expect(page.locator("#preview-timeline")).to_contain_text("2. Backup")

    # Reordering the first layer's participants changes who is on call now.
    first.locator("[data-participant]").nth(1).get_by_role(
        "button", name="Move participant up"
    ).click()
    expect(first.get_by_label("Participant 1")).to_have_value("responder")
    expect(oncall.locator("strong")).to_have_text("responder")
    assert Schedule.objects.count() == 0, "the preview saved something"
    assert too_wide(page) == [], "the editor is wider than the phone"
    browsing.shot("02-editor-two-layers")

    page.get_by_role("button", name="Create schedule").click()
    expect(page.locator(".flash", has_text="Schedule Payments primary created.")).to_be_visible()
    expect(page.locator("[data-role=oncall-now] strong")).to_have_text("responder")
    expect(page.locator("table").first).to_contain_text("Backup")
    browsing.shot("03-schedule-saved")
    schedule = Schedule.objects.get()
    assert [layer.name for layer in schedule.layers.order_by("position")] == ["Daytime", "Backup"]
    # The preview's failed (400) answers are logged by Chromium as failed loads.
    browsing.console_errors[:] = [
        error for error in browsing.console_errors if "400 (Bad Request)" not in error
    ]
    browsing.assert_clean()
