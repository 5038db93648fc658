"""The first run in a real browser: an empty database, any address, the first-administrator
page (usable on a 390 px phone, no serious accessibility violation in what it shows), the
administrator signed in, and the page gone afterwards. Then an invitation's set-password
page the same way."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.browser import PHONE, severe_violations, too_wide

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "lantern orbit 1843"


def test_the_first_visit_creates_the_first_administrator(browsing, make_web):
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.exists()
    web = make_web()
    page = browsing.page
    page.set_viewport_size(PHONE)

    page.goto(f"{web.url}/incidents/")
    expect(page).to_have_url(re.compile(r"/setup/first-admin/$"))
    expect(page.get_by_role("heading", name="Welcome to Pagerline")).to_be_visible()
    assert too_wide(page) == [], "the first-run page is wider than a 390 px phone"
    assert severe_violations(page) == []
    browsing.shot("01-first-admin-390")

    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill("not the same one 12")
    page.get_by_role("button", name="Create administrator").click()
    expect(page.get_by_text("The two passwords differ.")).to_be_visible()
    assert too_wide(page) == []
    browsing.shot("02-first-admin-error")

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create administrator").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.get_by_text("Welcome, ada. You are the administrator.")).to_be_visible()
    browsing.shot("03-dashboard")

    user = get_user_model().objects.get()
    assert user.username == "ada" and user.is_superuser and user.is_staff
    # Gone for good, signed in or not.
    assert requests.get(f"{web.url}/setup/first-admin/", timeout=10).status_code == 404
    response = page.goto(f"{web.url}/setup/first-admin/")
    assert response.status == 404
    assert browsing.csp_violations == [] and browsing.non_local_requests() == []


def test_an_invited_person_sets_a_password_on_a_phone(browsing, make_web, team, users):
    from oncall.models import Membership
    from oncall.tests.factories import make_invitation

    _invitation, token = make_invitation(users["manager"], "new@example.com", team=team)
    web = make_web()
    page = browsing.page
    page.set_viewport_size(PHONE)
    page.goto(f"{web.url}/invite/{token}/")
    expect(page.get_by_role("heading", name="Join Pagerline")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("new")
    assert too_wide(page) == []
    assert severe_violations(page) == []
    browsing.shot("01-invitation-390")

    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.get_by_text("You are in Payments.")).to_be_visible()
    assert Membership.objects.filter(team=team, user__username="newcomer").exists()

    page.goto(f"{web.url}/invite/{token}/")
    expect(page.get_by_text("This invitation was used already")).to_be_visible()
    assert too_wide(page) == []
    browsing.shot("02-invitation-used")
    assert browsing.csp_violations == [] and browsing.non_local_requests() == []


def test_a_manager_invites_and_sees_the_checklist_on_a_phone(browsing, make_web, team, users):
    from tests.e2e.browser import log_in, set_server_password, severe_violations, too_wide

    set_server_password(users["manager"])
    web = make_web()
    page = browsing.page
    log_in(browsing, web.url, "manager")
    checklist = page.locator(f"section.checklist[data-team={team.slug}]")
    expect(checklist).to_contain_text("0 of 6")
    page.set_viewport_size(PHONE)
    assert too_wide(page) == []
    browsing.shot("01-dashboard-checklist-390")

    page.goto(f"{web.url}/invitations/")
    page.get_by_label("Email").fill("new@example.com")
    page.get_by_label("Team").select_option(team.slug)
    page.get_by_label("Role").select_option("manager")
    page.get_by_role("button", name="Send invitation").click()
    row = page.locator("li[data-invitation]")
    expect(row).to_contain_text("new@example.com")
    expect(row.locator("[data-role=state]")).to_have_text("pending")
    assert too_wide(page) == []
    assert severe_violations(page) == []
    browsing.shot("02-invitations-390")

    page.get_by_role("button", name="Revoke").click()
    expect(row.locator("[data-role=state]")).to_have_text("revoked")
    browsing.assert_clean()
