"""A new user sets up a team and its service in the browser: creates the team (and so
manages it), adds a colleague who already has an account, and creates a service choosing
which severities page with high urgency, on a laptop and on a 390 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from incidents.models import Service
from oncall.models import Membership
from oncall.tests.factories import make_user
from tests.e2e.browser import PHONE, log_in, set_server_password, severe_violations, too_wide

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]


def test_a_new_user_sets_up_a_team_and_a_service_in_the_browser(browsing, make_web, db):
    alice = make_user("alice", email="alice@example.com")
    make_user("bob", email="bob@example.com")
    set_server_password(alice)
    web = make_web()
    page = browsing.page
    log_in(browsing, web.url, "alice")

    page.goto(f"{web.url}/teams/")
    expect(page.get_by_text("You are in no team yet.")).to_be_visible()
    page.get_by_role("link", name="New team").click()
    page.get_by_label("Name").fill("Search")
    page.get_by_label("Slug").fill("Search!")
    page.get_by_role("button", name="Create team").click()
    # Refused next to the field, the other input kept.
    expect(page.locator('[data-error="slug"]')).to_contain_text("lowercase letters")
    expect(page.get_by_label("Name")).to_have_value("Search")
    browsing.shot("01-team-refused")
    page.get_by_label("Slug").fill("search")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name="Search")).to_be_visible()
    expect(page.get_by_text("you are its manager")).to_be_visible()

    page.get_by_label("Username or email").fill("bob@example.com")
    page.get_by_label("Role", exact=True).last.select_option("responder")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator('[data-member="bob"]')).to_be_visible()
    # The one manager cannot step down before someone else manages.
    alice_row = page.locator('[data-member="alice"]')
    alice_row.get_by_label("Role").select_option("viewer")
    alice_row.get_by_role("button", name="Change role").click()
    expect(page.locator('[data-member="alice"] [data-error="member"]')).to_contain_text(
        "alice is the last manager of Search"
    )
    browsing.shot("02-team")
    assert severe_violations(page) == []
    assert dict(
        Membership.objects.filter(team__slug="search").values_list("user__username", "role")
    ) == {"alice": "manager", "bob": "responder"}

    page.goto(f"{web.url}/services/")
    page.get_by_role("link", name="New service").click()
    page.get_by_label("Name").fill("Search API")
    page.get_by_label("Slug").fill("search-api")
    page.get_by_label("Description").fill("Answers queries")
    page.get_by_label("Error").uncheck()
    page.get_by_label("Warning").check()
    page.get_by_label("Slack channel ID").fill("#search")
    page.get_by_role("button", name="Create service").click()
    expect(page.locator('[data-error="slack_channel"]')).to_contain_text("channel's ID")
    page.get_by_label("Slack channel ID").fill("")
    # The ticks survived the refusal.
    expect(page.get_by_label("Warning")).to_be_checked()
    expect(page.get_by_label("Error")).not_to_be_checked()
    assert severe_violations(page) == []
    page.get_by_role("button", name="Create service").click()
    row = page.locator('[data-service="search-api"]')
    expect(row).to_contain_text("Search API")
    expect(row).to_contain_text("critical")
    expect(row).to_contain_text("warning")
    expect(row.get_by_role("link", name="Metrics")).to_have_attribute(
        "href", "/services/search-api/"
    )
    browsing.shot("03-services")
    service = Service.objects.get(slug="search-api")
    assert service.team.slug == "search"
    assert service.high_urgency_severities == ["critical", "warning"]

    page.set_viewport_size(PHONE)
    for path in (
        "/teams/",
        "/teams/search/",
        "/services/",
        "/services/new",
        "/services/search-api/settings",
        "/teams/new",
    ):
        page.goto(f"{web.url}{path}")
        assert too_wide(page) == []
        browsing.shot("04-phone-" + path.strip("/").replace("/", "-"))
    assert severe_violations(page) == []
    # A refused form answers 400, which Chromium logs; those three are the refusals above.
    refused = [e for e in browsing.console_errors if "status of 400 (Bad Request)" in e]
    assert [e.rsplit("/", 2)[-1] for e in refused] == ["new)", "role)", "new)"], refused
    browsing.console_errors = [e for e in browsing.console_errors if e not in refused]
    browsing.assert_clean()
