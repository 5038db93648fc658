"""The integration pages under /services/<slug>/integrations/: managers create (the URL and
the sender's snippet shown once), rotate, send a test alert and edit routing rules;
members read; outsiders get 404."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEntry
from incidents.intake import drain, store
from incidents.models import Incident, Integration, RoutingRule, hash_token
from incidents.tests.factories import make_integration, make_routing_rule, make_service
from tests.support import fixture_json, post_json

pytestmark = pytest.mark.django_db

LIST = "/services/checkout/integrations/"
URL_SHOWN = re.compile(r'data-role="webhook-url">(http[^<]+)</code>')


def _detail(integration) -> str:
    return f"{LIST}{integration.pk}/"


def _shown_url(response) -> str:
    found = URL_SHOWN.search(response.content.decode())
    assert found, "no webhook URL on the page"
    return found.group(1)


def _hook_path(url: str) -> str:
    return "/hooks/" + url.split("/hooks/", 1)[1]


def test_a_manager_creates_an_integration_and_sees_its_url_only_once(manager_client, service):
    response = manager_client.post(LIST, {"source": "alertmanager", "name": "Prometheus prod"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    integration = Integration.objects.get()
    assert integration.name == "Prometheus prod" and integration.service == service
    url = _shown_url(response)
    token = url.rsplit("/", 1)[1]
    assert integration.token_hash == hash_token(token)
    page = response.content.decode()
    assert "send_resolved: true" in page and "shown only this once" in page
    assert 'data-copy="webhook-url"' in page and "js/integration.js" in page
    assert AuditEntry.objects.filter(action="integration.created").count() == 1

    later = manager_client.get(_detail(integration))
    assert later.status_code == 200
    assert token not in later.content.decode() and 'data-role="webhook-url"' not in (
        later.content.decode()
    )
    assert integration.token_prefix in later.content.decode()
    listed = manager_client.get(LIST).content.decode()
    assert "Prometheus prod" in listed and token not in listed

    # The URL shown is the one that works.
    posted = post_json(manager_client, _hook_path(url), fixture_json("alertmanager/firing.json"))
    assert posted.status_code == 202


def test_the_same_form_sent_twice_creates_one_integration(manager_client, service):
    """A reload of the answer (which shows the token, so is not a redirect) posts again."""
    form = manager_client.get(LIST).content.decode()
    submission = re.search(r'name="submission" value="([^"]+)"', form).group(1)
    body = {"source": "alertmanager", "name": "Prometheus prod", "submission": submission}
    first = manager_client.post(LIST, body)
    assert first.status_code == 200 and _shown_url(first)
    again = manager_client.post(LIST, body, follow=True)
    assert again.redirect_chain == [(LIST, 302)]
    assert "That form was sent already" in again.content.decode()
    assert Integration.objects.count() == 1
    # A fresh form makes another.
    other = re.search(
        r'name="submission" value="([^"]+)"', manager_client.get(LIST).content.decode()
    ).group(1)
    assert other != submission
    manager_client.post(LIST, {**body, "submission": other})
    assert Integration.objects.count() == 2


def test_a_refused_sender_is_named_next_to_its_field(manager_client, service):
    response = manager_client.post(LIST, {"source": "nagios", "name": "x"})
    assert response.status_code == 400
    assert re.search(r'data-role="source-error">[^<]*nagios', response.content.decode())
    assert not Integration.objects.exists()


def test_rotating_shows_a_new_url_and_the_old_one_stops_working(manager_client, integration):
    record, old_token = integration
    body = fixture_json("alertmanager/firing.json")
    response = manager_client.post(f"{_detail(record)}rotate")
    assert response.status_code == 200
    new_url = _shown_url(response)
    assert old_token not in new_url
    assert post_json(manager_client, f"/hooks/alertmanager/{old_token}", body).status_code == 404
    assert post_json(manager_client, _hook_path(new_url), body).status_code == 202
    entry = AuditEntry.objects.get(action="integration.token_rotated")
    assert old_token not in entry.summary and new_url.rsplit("/", 1)[1] not in entry.summary


def test_a_test_alert_from_the_page_opens_an_incident_listed_as_a_delivery(
    manager_client, integration
):
    record, _ = integration
    response = manager_client.post(f"{_detail(record)}test")
    assert response.status_code == 302 and response["Location"] == _detail(record)
    drain.deliveries_drain()
    incident = Incident.objects.get()
    assert incident.title.startswith("[TEST]")
    page = manager_client.get(_detail(record)).content.decode()
    assert 'data-status="processed"' in page
    assert "1 alert: firing [TEST] Test alert from Pagerline, sent by manager" in page
    assert ">test</span>" in page


def test_the_page_lists_the_last_50_deliveries_with_their_errors(
    manager_client, integration, django_assert_max_num_queries
):
    record, _ = integration
    start = timezone.now() - timedelta(hours=2)
    for minute in range(55):
        store.delivery_accept(
            integration=record,
            body=json.dumps(fixture_json("alertmanager/firing.json")),
            received_at=start + timedelta(minutes=minute),
        )
    store.delivery_accept(integration=record, body='{"alerts": "none"}', received_at=timezone.now())
    drain.deliveries_drain()
    with django_assert_max_num_queries(12):
        page = manager_client.get(_detail(record)).content.decode()
    assert page.count("data-delivery=") == 50
    assert 'data-status="failed"' in page and "alerts: expected a list" in page


@pytest.mark.parametrize("role", ["responder", "viewer"])
def test_members_read_the_pages_but_change_nothing(client, users, integration, role):
    record, token = integration
    client.force_login(users[role])
    listed = client.get(LIST)
    assert listed.status_code == 200 and record.name in listed.content.decode()
    assert "Create integration" not in listed.content.decode()
    detail = client.get(_detail(record))
    assert detail.status_code == 200
    assert "Send a test alert" not in detail.content.decode()
    assert client.post(LIST, {"source": "grafana"}).status_code == 403
    assert client.post(f"{_detail(record)}rotate").status_code == 403
    assert client.post(f"{_detail(record)}test").status_code == 403
    rule_body = {"matchers": "severity=critical", "service": "checkout", "position": "0"}
    assert client.post(f"{_detail(record)}routing-rules", rule_body).status_code == 403
    assert Integration.objects.get().token_hash == hash_token(token)
    assert not AuditEntry.objects.exists()


def test_outsiders_do_not_learn_the_service_or_its_integrations_exist(client, users, integration):
    record, _ = integration
    client.force_login(users["outsider"])
    assert client.get(LIST).status_code == 404
    assert client.get(_detail(record)).status_code == 404
    assert client.post(LIST, {"source": "grafana"}).status_code == 404
    assert client.post(f"{_detail(record)}rotate").status_code == 404
    assert client.post(f"{_detail(record)}test").status_code == 404


def test_an_integration_of_another_service_is_not_found_under_this_one(
    manager_client, service, integration
):
    record, _ = integration
    other = make_service(service.team, "search", "Search")
    assert (
        manager_client.get(f"/services/{other.slug}/integrations/{record.pk}/").status_code == 404
    )


def test_a_routing_rule_is_added_and_removed(manager_client, service, integration):
    record, _ = integration
    db = make_service(service.team, "database", "Database")
    response = manager_client.post(
        f"{_detail(record)}routing-rules",
        {"matchers": "severity=critical\ninstance=~db-.*", "service": "database", "position": "1"},
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.service == db and rule.position == 1
    assert rule.matchers == [
        {"label": "severity", "op": "=", "value": "critical"},
        {"label": "instance", "op": "=~", "value": "db-.*"},
    ]
    page = manager_client.get(_detail(record)).content.decode()
    assert "severity=critical, instance=~db-.*" in page
    removed = manager_client.post(f"{_detail(record)}routing-rules/{rule.pk}/delete")
    assert removed.status_code == 302 and not RoutingRule.objects.exists()
    assert AuditEntry.objects.filter(action__startswith="routing_rule.").count() == 2


@pytest.mark.parametrize(
    ("matchers", "message"),
    [
        ("severity critical", "line 1: expected label=value"),
        ("instance=~db-(", "invalid regular expression"),
    ],
)
def test_a_refused_routing_rule_is_explained_next_to_the_matchers(
    manager_client, integration, matchers, message
):
    record, _ = integration
    response = manager_client.post(
        f"{_detail(record)}routing-rules",
        {"matchers": matchers, "service": "checkout", "position": "0"},
    )
    assert response.status_code == 400
    errors = re.findall(r'data-role="matchers-error">([^<]*)<', response.content.decode())
    assert errors and message in errors[0]
    assert not RoutingRule.objects.exists()


def test_a_rule_cannot_send_alerts_to_another_teams_service(manager_client, users, integration):
    record, _ = integration
    response = manager_client.post(
        f"{_detail(record)}routing-rules",
        {"matchers": "a=b", "service": "elsewhere", "position": "0"},
    )
    assert response.status_code == 400
    assert 'data-role="service-error"' in response.content.decode()


def test_a_rule_of_another_integration_is_not_removed_here(manager_client, service, integration):
    record, _ = integration
    other, _ = make_integration(service, source="grafana")
    rule = make_routing_rule(other, service=service, matchers=[{"label": "a", "value": "b"}])
    response = manager_client.post(f"{_detail(record)}routing-rules/{rule.pk}/delete")
    assert response.status_code == 404
    assert RoutingRule.objects.filter(pk=rule.pk).exists()
