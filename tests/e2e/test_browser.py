"""What a person sees in a real browser: Debian's Chromium, driven by Playwright, against a
real gunicorn (and a real Celery worker where alerts come in) on the test database.

Every page visited is saved as a full-page screenshot under test-artifacts/screenshots/, and
every test ends by checking that no page logged an error, broke its Content-Security-Policy
or fetched anything from a host other than this machine.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.browser import log_in, open_menu, set_server_password
from tests.support import am_alert, am_payload

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def _wall_clock(instant: datetime, time_zone: str) -> str:
    """What a person types into an <input type=datetime-local> for `instant` in the zone."""
    return instant.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%dT%H:%M")


def test_it_logs_in_through_the_form_and_shows_the_dashboard(browsing, make_web, users):
    set_server_password(users["viewer"])
    web = make_web()
    page = browsing.page

    page.goto(f"{web.url}/accounts/login/")
    page.get_by_label("Username").fill("viewer")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Your username and password didn't match.")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("viewer")  # kept for the next try
    browsing.shot("01-wrong-password")

    log_in(browsing, web.url, "viewer")
    expect(page.locator("#open-incidents")).to_contain_text("No open incidents.")
    expect(page.locator("#oncall-now")).to_contain_text("No schedules in your teams.")
    browsing.assert_clean()


def test_an_alert_appears_live_and_is_acknowledged_and_resolved_on_its_page(
    browsing, make_web, make_worker, users, integration
):
    _, token = integration
    set_server_password(users["responder"])
    web = make_web()
    make_worker("-B")
    page = browsing.page
    log_in(browsing, web.url, "responder")
    open_list = page.locator("[data-role=open-list]")
    expect(open_list).to_contain_text("No open incidents.")
    # Survives only as long as this document does: a reload would drop it.
    page.evaluate("window.e2eSameDocument = true")

    started = (timezone.now() - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    payload = am_payload(
        am_alert("CheckoutLatencyHigh", starts_at=started),
        group_key='{}:{alertname="CheckoutLatencyHigh"}',
    )
    response = requests.post(
        f"{web.url}/hooks/alertmanager/{token}",
        data=json.dumps(payload),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 202, response.text

    item = open_list.locator("ul.incidents > li.incident", has_text="CheckoutLatencyHigh")
    expect(item).to_be_visible()
    expect(item).to_have_class("incident triggered")
    expect(page.locator("[data-role=open-count]")).to_have_text("1")
    assert page.evaluate("window.e2eSameDocument") is True, "the dashboard was reloaded"
    browsing.shot("01-dashboard-live-incident")

    item.get_by_role("link").click()
    expect(page.locator("[data-role=status]")).to_have_text("triggered")
    timeline = page.locator("[data-role=timeline]")
    expect(timeline.locator("li.event.triggered")).to_have_count(1)
    browsing.shot("02-incident-triggered")

    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(page.locator(".flash", has_text="Acknowledged.")).to_be_visible()
    expect(page.locator("[data-role=status]")).to_have_text("acknowledged")
    expect(timeline.locator("li.event.acknowledged")).to_contain_text("by responder")
    expect(page.locator("[data-time=acknowledged_at] time")).to_be_visible()
    browsing.shot("03-incident-acknowledged")

    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator(".flash", has_text="Resolved.")).to_be_visible()
    expect(page.locator("[data-role=status]")).to_have_text("resolved")
    expect(timeline.locator("li.event.acknowledged")).to_have_count(1)
    expect(timeline.locator("li.event.resolved")).to_contain_text("by responder")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge", exact=True)).to_be_hidden()
    browsing.shot("04-incident-resolved")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("[data-role=open-list]")).to_contain_text("No open incidents.")
    expect(page.locator("[data-role=resolved-list]")).to_contain_text("CheckoutLatencyHigh")
    browsing.shot("05-dashboard-resolved")
    browsing.assert_clean()


def test_an_override_added_on_the_schedule_page_changes_who_is_on_call(
    browsing, make_web, users, team
):
    from oncall import services as oncall_services

    now = timezone.now()
    local_today = now.astimezone(ZoneInfo(team.time_zone)).replace(tzinfo=None)
    schedule = oncall_services.schedule_create(
        team=team,
        name="Primary",
        time_zone=team.time_zone,
        layers=[
            oncall_services.LayerSpec(
                name="Weekly",
                participants=(users["responder"],),
                unit="weeks",
                every=1,
                handoff_start=(local_today - timedelta(days=3)).replace(
                    hour=9, minute=0, second=0, microsecond=0
                ),
            )
        ],
    )
    set_server_password(users["manager"])
    web = make_web()
    page = browsing.page

    log_in(browsing, web.url, "manager")
    oncall = page.locator("#oncall-now")
    expect(oncall).to_contain_text("Primary")
    expect(oncall.locator(".oncall-user")).to_have_text("responder")

    open_menu(page, "On-call")
    page.get_by_role("link", name="Schedules").click()
    row = page.locator(f"tr[data-schedule='{schedule.pk}']")
    expect(row.locator("[data-role=oncall]")).to_have_text("responder")
    browsing.shot("01-schedules")
    row.get_by_role("link", name="Primary").click()
    expect(page).to_have_url(f"{web.url}/schedules/{schedule.pk}/")
    now_box = page.locator("[data-role=oncall-now]")
    expect(now_box.locator("strong")).to_have_text("responder")
    expect(page.locator("#timeline .main-svg").first).to_be_attached()
    browsing.shot("02-schedule-before")

    form = page.locator("form.override-form")
    form.get_by_label("Who is on call").select_option("manager")
    form.get_by_label("From").fill(_wall_clock(now - timedelta(hours=1), team.time_zone))
    form.get_by_label("Until").fill(_wall_clock(now + timedelta(hours=3), team.time_zone))
    form.get_by_role("button", name="Add override").click()

    expect(page.locator(".flash", has_text="Override added for manager.")).to_be_visible()
    expect(now_box.locator("strong")).to_have_text("manager")
    expect(now_box).to_contain_text("override")
    expect(page.locator("tr[data-override]")).to_contain_text("manager")
    browsing.shot("03-schedule-after")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#oncall-now .oncall-user")).to_have_text("manager")
    browsing.shot("04-dashboard-after")
    browsing.assert_clean()


# --- drills and weekly reports ---------------------------------------------------------------


def _charts_drawn(page, count: int) -> None:
    """Each server-built figure has been drawn by plotly (its SVG is in the page)."""
    charts = page.locator("figure.chart")
    expect(charts).to_have_count(count)
    for index in range(count):
        expect(charts.nth(index).locator(".main-svg").first).to_be_attached()
    expect(page.get_by_text("This chart could not be drawn.")).to_have_count(0)


def test_the_drill_review_and_the_weekly_report_draw_their_charts(
    browsing, make_web, users, drill_and_report
):
    set_server_password(users["viewer"])
    web = make_web()
    page = browsing.page
    drill, week = drill_and_report["drill"], drill_and_report["week"]
    log_in(browsing, web.url, "viewer")

    open_menu(page, "Drills and reports")
    page.get_by_role("link", name="Drills", exact=True).click()
    expect(page.get_by_role("heading", name="Failover drills")).to_be_visible()
    browsing.shot("01-drills")
    page.get_by_role("link", name="Primary DB failover").click()
    expect(page).to_have_url(f"{web.url}/drills/{drill.pk}/")
    expect(page.locator("[data-role=drill-result]")).to_have_text("pass")
    card = page.locator("section.drill-service[data-service=checkout]")
    expect(card.locator("[data-role=mttd]")).to_have_text("1m 30s")
    expect(card).to_contain_text("Checkout database unreachable")
    _charts_drawn(page, 1)
    browsing.shot("02-drill-review")

    page.goto(f"{web.url}/reports/payments/")
    expect(page.get_by_role("heading", name="Payments: weekly MTTR reports")).to_be_visible()
    browsing.shot("03-reports")
    page.get_by_role("link", name=week, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/reports/payments/{week}/\?version=1$"))
    expect(page.get_by_role("heading", name=f"Payments: week {week}")).to_be_visible()
    expect(page.locator("tr[data-service=checkout]")).to_contain_text("2")
    # services' figures, incident counts, and the on-call load (the responder was paged)
    _charts_drawn(page, 3)
    expect(page.locator("#oncall-load")).to_contain_text("responder")
    browsing.shot("04-weekly-report")
    browsing.assert_clean()


def test_the_weekly_report_csv_downloads_from_its_link(browsing, make_web, users, drill_and_report):
    set_server_password(users["viewer"])
    web = make_web()
    page = browsing.page
    week = drill_and_report["week"]
    log_in(browsing, web.url, "viewer")
    page.goto(f"{web.url}/reports/payments/{week}/")
    browsing.shot("01-weekly-report")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV", exact=True).click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == f"payments-{week}-v1.csv"
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    header = list(rows[0].keys())
    assert header[:6] == ["week", "service", "incidents", "alerts", "open", "unacknowledged"]
    assert {"mttd_mean_seconds", "mtta_mean_seconds", "mttr_mean_seconds"} <= set(header)
    (checkout,) = [row for row in rows if row["service"] == "checkout"]
    # The drill's incident is not production: two incidents, MTTA (300+120)/2, MTTR (600+1800)/2.
    assert (checkout["week"], checkout["incidents"], checkout["open"]) == (week, "2", "0")
    assert (checkout["mtta_mean_seconds"], checkout["mttr_mean_seconds"]) == ("210", "1200")
    assert (checkout["mttd_mean_seconds"], checkout["mttr_p50_seconds"]) == ("0", "1200")
    browsing.assert_clean()
