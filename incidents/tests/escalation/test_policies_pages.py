"""The escalation policy pages: who sees and changes what, the form's rows and its errors,
deleting, and choosing the services a policy pages for."""

import re

import pytest
from django.test import Client

from core.models import AuditEntry
from incidents.models import EscalationPolicy
from incidents.tests.factories import make_policy, make_service
from oncall.models import Team
from oncall.tests.factories import make_schedule

pytestmark = pytest.mark.django_db

LIST = "/escalation-policies/"
NEW = "/escalation-policies/new"


def form_data(*rows, name="Primary", repeat="0", fallback="", team="payments", total=None):
    """rows: (delay, [choice values], remove?) as the browser sends them."""
    data = {
        "name": name,
        "repeat": repeat,
        "fallback_user": fallback,
        "steps-TOTAL_FORMS": str(total if total is not None else len(rows)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "50",
    }
    if team:
        data["team"] = team
    for i, row in enumerate(rows):
        delay, targets, *remove = row
        data[f"steps-{i}-delay_seconds"] = str(delay) if delay is not None else ""
        data[f"steps-{i}-targets"] = targets
        if remove and remove[0]:
            data[f"steps-{i}-DELETE"] = "on"
    return data


@pytest.fixture
def policy(team, users):
    schedule = make_schedule(team, name="Primary rota")
    return make_policy(
        team,
        (0, [users["responder"]]),
        (300, [users["manager"], ("schedule", schedule.pk)]),
        repeat=1,
        fallback=users["manager"],
    )


def test_members_see_the_policies_of_their_teams(client, users, policy, service):
    client.force_login(users["viewer"])
    page = client.get(LIST).content.decode()
    assert "Primary" in page and "Payments" in page
    assert "after 5 min" in page and "Primary rota (schedule)" in page
    assert 'href="/escalation-policies/new"' not in page
    assert "Nobody is paged" in page and "Checkout" in page
    client.force_login(users["manager"])
    assert 'href="/escalation-policies/new"' in client.get(LIST).content.decode()
    client.force_login(users["outsider"])
    page = client.get(LIST).content.decode()
    assert "Primary rota" not in page and "Checkout" not in page


def test_anonymous_visitors_are_sent_to_log_in(client, policy):
    for url in (LIST, NEW, f"/escalation-policies/{policy.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post(NEW, form_data((0, ["user:responder"])))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert EscalationPolicy.objects.count() == 1


def test_the_policy_page_shows_steps_in_order(client, users, policy):
    client.force_login(users["viewer"])
    response = client.get(f"/escalation-policies/{policy.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    first, second = page.index('data-step="1"'), page.index('data-step="2"')
    assert first < second
    assert "At once" in page[first:second] and "responder" in page[first:second]
    assert "After 5 min" in page[second:] and "Primary rota (schedule)" in page[second:]
    assert "nobody on call now" in page
    assert "1 more time" in page
    assert "/edit" not in page and "Delete policy" not in page
    client.force_login(users["outsider"])
    assert client.get(f"/escalation-policies/{policy.pk}/").status_code == 404


def test_managers_create_a_policy_with_the_form(client, users, team):
    schedule = make_schedule(team, name="Rota")
    client.force_login(users["manager"])
    page = client.get(NEW).content.decode()
    assert 'value="user:responder"' in page and f'value="schedule:{schedule.pk}"' in page
    assert 'value="user:viewer"' not in page  # a viewer could not acknowledge
    assert "csrfmiddlewaretoken" in page
    data = form_data(
        (0, ["user:responder"]),
        (600, ["user:manager", f"schedule:{schedule.pk}"]),
        (None, []),  # an extra row left blank
        fallback="manager",
        repeat="2",
    )
    response = client.post(NEW, data)
    assert response.status_code == 302, response.content.decode()
    policy = EscalationPolicy.objects.get()
    assert response["Location"] == f"/escalation-policies/{policy.pk}/"
    assert (policy.name, policy.repeat, policy.fallback_user) == ("Primary", 2, users["manager"])
    steps = list(policy.steps.order_by("position"))
    assert [s.delay_seconds for s in steps] == [0, 600]
    assert {(t.user_id, t.schedule_id) for t in steps[1].targets.all()} == {
        (users["manager"].pk, None),
        (None, schedule.pk),
    }
    assert AuditEntry.objects.filter(action="escalation_policy.created").count() == 1


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([(60, [])], "Add at least one target", id="a step with nobody to page"),
        pytest.param([(None, [])], "Add at least one step", id="no steps"),
        pytest.param(
            [(0, ["user:responder"]), (-1, ["user:manager"])], "greater than or", id="neg"
        ),
        pytest.param([(0, ["user:viewer"])], "Select a valid choice", id="not offered"),
    ],
)
def test_the_form_shows_what_is_wrong_on_its_row(client, users, team, rows, expected):
    client.force_login(users["manager"])
    response = client.post(NEW, form_data(*rows))
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not EscalationPolicy.objects.exists()


def test_the_form_names_a_duplicate_and_keeps_what_was_typed(client, users, policy):
    client.force_login(users["manager"])
    response = client.post(NEW, form_data((45, ["user:responder"]), name="primary"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "already has a policy named" in page
    assert 'value="45"' in page
    assert EscalationPolicy.objects.count() == 1


def test_viewers_and_responders_cannot_create_or_edit(client, users, policy):
    for role in ("viewer", "responder"):
        client.force_login(users[role])
        assert client.get(NEW).status_code == 403
        assert client.post(NEW, form_data((0, ["user:responder"]))).status_code == 403
        assert client.get(f"/escalation-policies/{policy.pk}/edit").status_code == 403
        assert client.post(f"/escalation-policies/{policy.pk}/delete").status_code == 403
    assert EscalationPolicy.objects.count() == 1


def test_outsiders_cannot_create_in_another_team_or_touch_its_policies(client, users, policy):
    client.force_login(users["outsider"])
    page = client.get(NEW).content.decode()  # they manage their own team
    assert 'name="team" value="other"' in page
    assert client.post(NEW, form_data((0, ["user:responder"]))).status_code == 404
    assert client.get(f"/escalation-policies/{policy.pk}/edit").status_code == 404
    assert client.post(f"/escalation-policies/{policy.pk}/delete").status_code == 404
    response = client.post(
        f"/escalation-policies/{policy.pk}/services", {"service": "checkout", "use": "1"}
    )
    assert response.status_code == 404
    assert EscalationPolicy.objects.count() == 1


def test_a_nul_in_a_posted_slug_is_a_400_not_a_database_error(client, users, policy, service):
    # PostgreSQL cannot compare text holding a NUL: the lookup used to fail there (a 500).
    client.force_login(users["manager"])
    response = client.post(NEW, form_data((0, ["user:responder"]), team="payments\x00"))
    assert response.status_code == 400
    response = client.post(
        f"/escalation-policies/{policy.pk}/services", {"service": "checkout\x00", "use": "1"}
    )
    assert response.status_code == 400
    assert EscalationPolicy.objects.count() == 1
    service.refresh_from_db()
    assert service.escalation_policy_id is None


def test_managers_edit_a_policy_removing_and_changing_steps(client, users, policy):
    client.force_login(users["manager"])
    url = f"/escalation-policies/{policy.pk}/edit"
    page = client.get(url).content.decode()
    assert 'value="Primary"' in page and 'value="300"' in page
    selected = re.findall(r'<option value="([^"]+)" selected>', page)
    assert "user:responder" in selected and "user:manager" in selected
    data = form_data(
        (0, ["user:responder"], True),
        (120, ["user:manager"]),
        (None, []),
        name="Renamed",
        team=None,
    )
    data["steps-INITIAL_FORMS"] = "2"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    policy.refresh_from_db()
    assert policy.name == "Renamed" and policy.repeat == 0 and policy.fallback_user is None
    (step,) = policy.steps.all()
    assert step.delay_seconds == 120 and [t.user for t in step.targets.all()] == [users["manager"]]
    entry = AuditEntry.objects.get(action="escalation_policy.updated")
    assert entry.changes["name"] == ["Primary", "Renamed"]


def test_editing_shows_a_target_that_can_no_longer_be_paged(client, users, team):
    stale = make_policy(team, (0, [users["viewer"]]))  # e.g. demoted since
    client.force_login(users["manager"])
    url = f"/escalation-policies/{stale.pk}/edit"
    assert '<option value="user:viewer" selected>' in client.get(url).content.decode()
    data = form_data((0, ["user:viewer"]), team=None)
    response = client.post(url, data)
    assert response.status_code == 400
    assert "viewer is a viewer of team Payments and could not acknowledge" in (
        response.content.decode()
    )


def test_a_policy_in_use_is_not_deleted_and_the_page_says_why(client, users, policy, service):
    service.escalation_policy = policy
    service.save()
    client.force_login(users["manager"])
    response = client.post(f"/escalation-policies/{policy.pk}/delete", follow=True)
    assert "used by Checkout" in response.content.decode()
    assert EscalationPolicy.objects.filter(pk=policy.pk).exists()

    stop = {"service": "checkout", "use": "0"}
    client.post(f"/escalation-policies/{policy.pk}/services", stop)
    service.refresh_from_db()
    assert service.escalation_policy_id is None
    response = client.post(f"/escalation-policies/{policy.pk}/delete")
    assert response.status_code == 302 and response["Location"] == LIST
    assert not EscalationPolicy.objects.exists()


def test_managers_choose_the_services_a_policy_pages_for(client, users, policy, service):
    client.force_login(users["manager"])
    page = client.get(f"/escalation-policies/{policy.pk}/").content.decode()
    assert '<option value="checkout">Checkout</option>' in page
    client.post(f"/escalation-policies/{policy.pk}/services", {"service": "checkout", "use": "1"})
    service.refresh_from_db()
    assert service.escalation_policy_id == policy.pk
    assert AuditEntry.objects.filter(action="service.updated").count() == 1
    other = Team.objects.get(slug="other")
    theirs = make_service(other, "theirs", "Theirs")
    response = client.post(
        f"/escalation-policies/{policy.pk}/services", {"service": "theirs", "use": "1"}, follow=True
    )
    assert "Choose one of the team&#x27;s services" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.escalation_policy_id is None


def test_forms_need_the_csrf_token_and_pages_carry_no_inline_script(users, policy):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["manager"])
    for url in (
        LIST,
        NEW,
        f"/escalation-policies/{policy.pk}/",
        f"/escalation-policies/{policy.pk}/edit",
    ):
        page = browser.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
    response = browser.post(f"/escalation-policies/{policy.pk}/delete")
    assert response.status_code == 403
    assert EscalationPolicy.objects.filter(pk=policy.pk).exists()


def test_the_list_queries_do_not_grow_with_policies(
    client, users, team, django_assert_max_num_queries
):
    client.force_login(users["viewer"])
    make_policy(team, (0, [users["responder"]]), name="P0", fallback=users["manager"])
    with django_assert_max_num_queries(20) as few:
        client.get(LIST)
    for i in range(1, 6):
        make_policy(team, (0, [users["responder"]]), (60, [users["manager"]]), name=f"P{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(LIST).content.decode()
    assert "P5" in page
