"""The service pages: members list their teams' services; managers create one for a team they
manage (owner, description, high-urgency severities, Slack channel, escalation policy) and
change its settings, refused where the API refuses, with the reason on the field."""

import re

import pytest

from core.errors import FieldErrors
from core.models import AuditEntry
from incidents.catalog import changes
from incidents.models import Service
from incidents.tests.factories import make_policy, make_service
from oncall.models import Role
from oncall.tests.factories import make_membership

pytestmark = pytest.mark.django_db

NEW = "/services/new"


def new_service(**fields) -> dict:
    return {
        "team": "payments",
        "name": "Search",
        "slug": "search",
        "description": "Finds things",
        "high_urgency_severities": ["critical", "warning"],
        "slack_channel": "",
        "escalation_policy": "",
        **fields,
    }


def test_members_list_their_teams_services_with_links(client, users, service):
    make_service(users["outsider"].teams.get(), "bravo-web", "Bravo web")
    client.force_login(users["responder"])
    page = client.get("/services/").content.decode()
    assert 'href="/services/checkout/"' in page  # the metrics page
    assert "Checkout" in page and "Bravo web" not in page
    assert "nobody is paged" in page
    assert "/services/checkout/settings" not in page and 'href="/services/new"' not in page
    client.force_login(users["manager"])
    page = client.get("/services/").content.decode()
    assert 'href="/services/checkout/settings"' in page and 'href="/services/new"' in page


def test_a_manager_creates_a_service_with_its_paging_settings(client, users, team):
    policy = make_policy(team, (0, [users["responder"]]))
    client.force_login(users["manager"])
    assert client.get(NEW).status_code == 200
    response = client.post(
        NEW, new_service(escalation_policy=str(policy.pk), slack_channel="C0123ABCD")
    )
    assert response.status_code == 302, response.content.decode()
    service = Service.objects.get(slug="search")
    assert (service.team, service.name, service.description) == (team, "Search", "Finds things")
    assert service.high_urgency_severities == ["critical", "warning"]
    assert (service.escalation_policy, service.slack_channel) == (policy, "C0123ABCD")
    entry = AuditEntry.objects.get(action="service.created")
    assert entry.actor == users["manager"] and entry.team_id == team.pk


def test_the_form_starts_with_critical_and_error_as_high_urgency(client, users):
    client.force_login(users["manager"])
    page = client.get(NEW).content.decode()
    checked = re.findall(r'value="(\w+)"[^>]*checked', page)
    assert checked == ["critical", "error"]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"slug": "checkout"}, "slug", "already exists"),
        ({"slug": "no spaces"}, "slug", "letters, digits"),
        ({"name": " "}, "name", "needs a name"),
        ({"slack_channel": "#ops"}, "slack_channel", "channel&#x27;s ID"),
        ({"high_urgency_severities": ["loud"]}, "high_urgency_severities", "loud is not one"),
    ],
)
def test_refusals_are_shown_next_to_their_field(client, users, service, fields, field, words):
    client.force_login(users["manager"])
    response = client.post(NEW, new_service(**fields))
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(rf'data-error="{field}">[^<]*{words}', page), page
    assert not Service.objects.filter(name="Search").exists()


def test_a_policy_of_another_team_is_refused(client, users, team):
    other = make_policy(users["outsider"].teams.get(), name="Theirs")
    client.force_login(users["manager"])
    response = client.post(NEW, new_service(escalation_policy=str(other.pk)))
    assert response.status_code == 400
    assert "Theirs" not in response.content.decode()  # never offered either
    assert not Service.objects.filter(slug="search").exists()


def test_a_manager_of_two_teams_picks_the_owner(client, users, team):
    other = users["outsider"].teams.get()
    make_membership(other, users["manager"], role=Role.MANAGER)
    client.force_login(users["manager"])
    # The team page's "new service" link names its team.
    assert '<option value="other" selected>' in client.get(f"{NEW}?team=other").content.decode()
    response = client.post(NEW, new_service(team="other"))
    assert response.status_code == 302
    assert Service.objects.get(slug="search").team == other


def test_responders_and_viewers_cannot_create_or_configure(client, users, service):
    for who in ("responder", "viewer"):
        client.force_login(users[who])
        assert client.get(NEW).status_code == 403
        assert client.post(NEW, new_service()).status_code == 403
        assert client.get("/services/checkout/settings").status_code == 403
        assert client.post("/services/checkout/settings", {"name": "X"}).status_code == 403
    service.refresh_from_db()
    assert service.name == "Checkout" and not Service.objects.filter(slug="search").exists()


def test_outsiders_get_404_and_cannot_create_in_the_team(client, users, service):
    client.force_login(users["outsider"])
    assert client.get("/services/checkout/settings").status_code == 404
    assert client.post("/services/checkout/settings", {"name": "X"}).status_code == 404
    assert client.post(NEW, new_service()).status_code == 404
    assert not Service.objects.filter(slug="search").exists()


def test_a_manager_changes_a_services_settings(client, users, team, service):
    policy = make_policy(team, (0, [users["responder"]]))
    client.force_login(users["manager"])
    page = client.get("/services/checkout/settings").content.decode()
    assert 'value="Checkout"' in page and 'href="/services/checkout/"' in page
    response = client.post(
        "/services/checkout/settings",
        {
            "name": "Checkout API",
            "description": "Takes the money",
            "high_urgency_severities": ["critical"],
            "slack_channel": "C0123ABCD",
            "escalation_policy": str(policy.pk),
        },
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert (service.name, service.high_urgency_severities) == ("Checkout API", ["critical"])
    assert (service.escalation_policy, service.slack_channel) == (policy, "C0123ABCD")
    entry = AuditEntry.objects.get(action="service.updated")
    assert entry.changes["high_urgency_severities"] == [["critical", "error"], ["critical"]]
    # None at all: every incident then pages with low urgency.
    client.post("/services/checkout/settings", {"name": "Checkout API"})
    service.refresh_from_db()
    assert service.high_urgency_severities == [] and service.escalation_policy is None


def test_service_create_checks_its_settings_as_an_edit_does(team, users):
    with pytest.raises(FieldErrors) as refused:
        changes.service_create(
            actor=users["manager"],
            team=team,
            slug="search",
            name="",
            slack_channel="#general",
            high_urgency_severities=["nope"],
            escalation_policy_id=999_999,
        )
    assert set(refused.value.errors) == {
        "name",
        "slack_channel",
        "high_urgency_severities",
        "escalation_policy",
    }
    service = changes.service_create(
        actor=users["manager"], team=team, slug="search", name="Search"
    )
    assert service.high_urgency_severities == ["critical", "error"]


def test_the_service_list_takes_a_fixed_number_of_queries(
    client, users, team, django_assert_max_num_queries
):
    policy = make_policy(team, (0, [users["responder"]]))
    for n in range(12):
        make_service(team, f"svc-{n}", escalation_policy=policy)
    client.force_login(users["manager"])
    with django_assert_max_num_queries(8):
        page = client.get("/services/").content.decode()
    assert len(re.findall(r'href="/services/svc-\d+/settings"', page)) == 12


def test_the_api_creates_a_service_with_the_same_settings_and_rules(client, users, team):
    policy = make_policy(team, (0, [users["responder"]]))
    client.force_login(users["manager"])
    body = {
        "team": "payments",
        "slug": "search",
        "name": "Search",
        "high_urgency_severities": ["warning", "critical"],
        "slack_channel": "C0123ABCD",
        "escalation_policy": policy.pk,
    }
    response = client.post("/api/v1/services/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["high_urgency_severities"] == ["critical", "warning"]
    assert response.json()["escalation_policy"] == policy.pk
    refused = client.post(
        "/api/v1/services/",
        {**body, "slug": "search-2", "slack_channel": "#search"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert list(refused.json()) == ["slack_channel"]
