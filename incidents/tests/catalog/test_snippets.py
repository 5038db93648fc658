"""What the integration page tells a manager to paste into each sender: parsed back, each
snippet names the integration's own URL, and a sender's body posted there is taken."""

import json
import shlex
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

from incidents.catalog import changes, sample_alerts, snippets
from incidents.models import AlertDelivery
from incidents.tests.factories import make_integration
from tests.support import fixture_json, post_json

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def _snippets(integration, token):
    return {
        s.title: s.text for s in changes.integration_snippets(integration=integration, token=token)
    }


def _curl(line: str) -> tuple[str, dict]:
    """The URL and the JSON body of a `curl -X POST ... -d BODY URL` line."""
    words = shlex.split(line)
    assert words[:3] == ["curl", "-X", "POST"]
    assert "Content-Type: application/json" in words
    return words[-1], json.loads(words[words.index("-d") + 1])


def _path(url: str) -> str:
    assert url.startswith(settings.PAGERLINE_BASE_URL + "/")
    return urlsplit(url).path


def test_the_alertmanager_receiver_is_yaml_naming_the_webhook_url(client, service):
    integration, token = make_integration(service, source="alertmanager")
    url = changes.webhook_url(integration=integration, token=token)
    config = yaml.safe_load(_snippets(integration, token)["Alertmanager receiver"])
    (receiver,) = config["receivers"]
    (hook,) = receiver["webhook_configs"]
    assert hook == {"url": url, "send_resolved": True}
    response = post_json(client, _path(hook["url"]), fixture_json("alertmanager/firing.json"))
    assert response.status_code == 202, response.content
    assert AlertDelivery.objects.get().integration == integration


def test_the_grafana_contact_point_names_the_webhook_url_and_post(client, service):
    integration, token = make_integration(service, source="grafana")
    url = changes.webhook_url(integration=integration, token=token)
    texts = _snippets(integration, token)
    settings_lines = dict(
        line.split(": ", 1) for line in texts["Grafana contact point"].splitlines()
    )
    assert settings_lines["URL"] == url and settings_lines["HTTP Method"] == "POST"
    provisioned = yaml.safe_load(texts["Or provision it from a file"])
    (point,) = provisioned["contactPoints"]
    (receiver,) = point["receivers"]
    assert receiver["type"] == "webhook"
    assert receiver["settings"] == {"url": url, "httpMethod": "POST"}
    response = post_json(client, _path(url), fixture_json("grafana/firing.json"))
    assert response.status_code == 202, response.content
    assert AlertDelivery.objects.get().integration == integration


def test_the_pagerduty_routing_key_and_events_url_take_an_event(client, service):
    integration, token = make_integration(service, source="pagerduty")
    texts = _snippets(integration, token)
    lines = dict(line.split(": ", 1) for line in texts["PagerDuty Events v2"].splitlines())
    assert lines["Integration key (routing_key)"] == token
    assert lines["Events API v2 URL"] == f"{settings.PAGERLINE_BASE_URL}/v2/enqueue"
    url, body = _curl(texts["Try it with curl"])
    assert url == lines["Events API v2 URL"] and body["routing_key"] == token
    event = {**fixture_json("pagerduty/trigger.json"), "routing_key": token}
    assert post_json(client, _path(url), event).status_code == 202
    assert post_json(client, _path(url), body).status_code == 202
    assert AlertDelivery.objects.filter(integration=integration).count() == 2


@pytest.mark.parametrize(
    "options",
    [{}, {"mapping": {"title": "alert.name", "dedup_key": "items.0.id", "severity": "level"}}],
    ids=["default shape", "mapped shape"],
)
def test_the_generic_curl_line_posts_an_alert_the_integration_accepts(client, service, options):
    integration, token = make_integration(service, source="generic")
    integration.options = options
    integration.save()
    url, body = _curl(_snippets(integration, token)["curl"])
    assert url == changes.webhook_url(integration=integration, token=token)
    response = post_json(client, _path(url), body)
    assert response.status_code == 202, response.content
    assert AlertDelivery.objects.get().integration == integration


def test_a_url_with_odd_characters_stays_one_yaml_string():
    (snippet,) = snippets.snippets_for(
        source="alertmanager",
        base_url="https://pager.example.com/a path/",
        token="abc:#def",
        name="Check out: #1",
        at=AT,
    )
    hook = yaml.safe_load(snippet.text)["receivers"][0]["webhook_configs"][0]
    assert hook["url"] == "https://pager.example.com/a path/hooks/alertmanager/abc:#def"


def test_a_mapped_generic_body_puts_values_on_their_paths():
    body = sample_alerts.alert_body(
        "generic",
        title="T",
        key="k",
        at=AT,
        options={"mapping": {"title": "data.alert.name", "dedup_key": "items.1.id"}},
    )
    assert body["data"] == {"alert": {"name": "T"}}
    assert body["items"] == [None, {"id": "k"}]
    assert body["severity"] == "info" and body["details"] == {"pagerline_test": "true"}
