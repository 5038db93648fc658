"""The getting-started checklist on a new team's manager's dashboard: each step ticks
itself off when the thing exists in the database, and the list goes when all are done."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from incidents.notify import rules_changes, sending
from incidents.tests.factories import (
    make_contact_method,
    make_integration,
    make_policy,
    make_service,
)
from metrics import checklist
from oncall.tests.factories import layer, make_schedule

ORDER = ["service", "integration", "schedule", "policy", "contact_method", "test_page"]


def _done(user) -> dict[str, bool] | None:
    found = checklist.checklists_for(user)
    if not found:
        return None
    (only,) = found
    return {step.key: step.done for step in only.steps}


def _ticked(user) -> list[str]:
    return [key for key, done in _done(user).items() if done]


def test_each_step_ticks_itself_off_as_the_thing_exists(team, users, smtp):
    manager = users["manager"]
    assert list(_done(manager)) == ORDER and _ticked(manager) == []

    service = make_service(team, "search", "Search")
    assert _ticked(manager) == ["service"]
    make_integration(service)
    assert _ticked(manager) == ["service", "integration"]
    make_schedule(
        team, [layer("Week", [manager], handoff_start=datetime(2026, 1, 5, 9))], name="Main"
    )
    assert _ticked(manager) == ORDER[:3]
    make_policy(team, (0, [manager]))
    assert _ticked(manager) == ORDER[:4]

    make_contact_method(manager, verified=False)
    assert _ticked(manager) == ORDER[:4]  # an unverified method cannot be paged yet
    make_contact_method(manager, address="pager@example.com")
    assert _ticked(manager) == ORDER[:5]

    rows = rules_changes.user_test_page(user=manager, now=timezone.now())
    assert _ticked(manager) == ORDER[:5]  # queued is not sent
    for row in rows:
        assert sending.notification_send(notification_id=row.pk) == "sent"
    assert smtp.messages, "the test page went through the SMTP server"
    assert _done(manager) is None  # all done: the checklist is gone


def test_it_is_for_managers_only(team, users):
    assert checklist.checklists_for(users["manager"])
    for role in ("responder", "viewer"):
        assert checklist.checklists_for(users[role]) == []


def test_a_dismissed_checklist_stays_away(team, users):
    assert checklist.checklists_for(users["manager"], dismissed={team.pk}) == []


def test_every_step_links_to_a_page_that_exists():
    for key, _label in checklist.STEPS:
        assert reverse(checklist.STEP_LINKS[key])


def test_the_dashboard_shows_it_and_hiding_it_works(client, team, users):
    client.force_login(users["manager"])
    body = client.get("/").content.decode()
    assert f'data-team="{team.slug}"' in body and "0 of 6" in body
    assert f'href="{reverse("escalation-policy-new")}?team={team.slug}"' in body
    response = client.post(f"/checklist/{team.slug}/dismiss")
    assert response.status_code == 302
    assert f'data-team="{team.slug}"' not in client.get("/").content.decode()


def test_only_the_teams_manager_hides_it(client, team, users):
    client.force_login(users["viewer"])
    assert client.post(f"/checklist/{team.slug}/dismiss").status_code == 403
    client.force_login(users["outsider"])
    assert client.post(f"/checklist/{team.slug}/dismiss").status_code == 404
