"""config.wsgi.application answers the webhook paths in front of Django's request handling
(config.hook_front.HookFront). What it answers must not depend on which way a request
came in; whatever it does not handle itself must reach Django as before."""

import json
import logging

import pytest
from django.core.wsgi import get_wsgi_application

from config.hook_front import HookFront
from incidents.intake import webhooks
from incidents.models import AlertDelivery
from tests.support import WsgiClient, fixture_json

pytestmark = pytest.mark.django_db

GOOD = json.dumps(fixture_json("alertmanager/firing.json"))


def _both(client, method, path, body="", content_type="application/json", **headers):
    # The same request id both ways: each way echoes it (else each makes up its own).
    headers.setdefault("X-Request-ID", "compare-1")
    django = client.generic(method, path, body, content_type=content_type, headers=headers)
    front = WsgiClient(host="testserver").generic(
        method, path, body, content_type=content_type, headers=headers
    )
    return django, front


def _comparable(response):
    body = response.json()
    body.pop("delivery", None)  # each answer stores its own delivery
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() != "content-length"}
    return response.status_code, body, headers


@pytest.mark.parametrize(
    ("case", "method", "path", "body", "content_type"),
    [
        ("accepted", "POST", "/hooks/alertmanager/{token}", GOOD, "application/json"),
        ("not JSON", "POST", "/hooks/alertmanager/{token}", "{nope", "application/json"),
        ("invalid", "POST", "/hooks/alertmanager/{token}", '{"alerts": 1}', "application/json"),
        ("wrong method", "GET", "/hooks/alertmanager/{token}", "", "application/json"),
        ("wrong type", "POST", "/hooks/alertmanager/{token}", GOOD, "text/plain"),
        ("unknown token", "POST", "/hooks/alertmanager/nope", GOOD, "application/json"),
        ("unknown source", "POST", "/hooks/nagios/{token}", GOOD, "application/json"),
        ("no token", "POST", "/hooks/alertmanager", GOOD, "application/json"),
        ("enqueue without key", "POST", "/v2/enqueue", "{}", "application/json"),
        ("enqueue, slash", "POST", "/v2/enqueue/", '{"routing_key": "x"}', "application/json"),
    ],
)
def test_a_webhook_gets_the_same_answer_from_the_front_as_from_the_view(
    client, integration, case, method, path, body, content_type
):
    _, token = integration
    django, front = _both(client, method, path.format(token=token), body, content_type)
    assert _comparable(front) == _comparable(django), case
    assert front.headers["Content-Length"] == str(len(front.content))


def test_the_front_stores_what_it_accepts(integration):
    _, token = integration
    response = WsgiClient().post(f"/hooks/alertmanager/{token}", GOOD)
    assert response.status_code == 202
    delivery = AlertDelivery.objects.get()
    assert response.json() == {"status": "accepted", "delivery": delivery.pk}
    assert delivery.body == GOOD


def test_a_host_outside_allowed_hosts_is_left_to_django(integration):
    _, token = integration
    response = WsgiClient(host="evil.example").post(f"/hooks/alertmanager/{token}", GOOD)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")  # Django's own 400 page
    assert AlertDelivery.objects.count() == 0


def test_plain_http_is_redirected_by_django_when_tls_is_required(integration, settings):
    settings.SECURE_SSL_REDIRECT = True
    _, token = integration
    # Django's middleware reads its settings once, when the handler is built.
    client = WsgiClient(application=HookFront(get_wsgi_application()))
    redirected = client.post(f"/hooks/alertmanager/{token}", GOOD)
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")
    assert AlertDelivery.objects.count() == 0
    assert client.post(f"/hooks/alertmanager/{token}", GOOD, secure=True).status_code == 202


def test_the_front_sends_hsts_when_the_site_is_served_over_https(integration, settings):
    settings.PAGERLINE_BASE_URL = "https://pager.example"
    settings.SECURE_HSTS_SECONDS = 31536000  # what an https:// base URL sets at start-up
    _, token = integration
    client = WsgiClient()
    secure = client.post(f"/hooks/alertmanager/{token}", GOOD, secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=")
    plain = client.post(f"/hooks/alertmanager/{token}", GOOD)
    assert "Strict-Transport-Security" not in plain.headers


@pytest.mark.parametrize("path", ["/hooks/heartbeat/{token}", "/hooks/alertmanager/{token}/"])
def test_other_paths_under_hooks_are_django_views(integration, path):
    _, token = integration
    response = WsgiClient().get(path.format(token=token))
    if "heartbeat" in path:
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
    else:
        assert response.status_code == 404


def test_the_front_logs_a_refusal_without_the_token(integration, caplog):
    _, token = integration
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = WsgiClient().post(f"/hooks/alertmanager/{token}", "{not json")
    assert response.status_code == 400
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Bad Request: /hooks/alertmanager/[redacted]" in logged
    assert token not in logged


def test_a_crash_answers_500_in_json_and_is_logged(integration, monkeypatch, caplog):
    def crash(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(webhooks, "alert_hook", crash)
    _, token = integration
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = WsgiClient().post(f"/hooks/alertmanager/{token}", GOOD)
    assert response.status_code == 500
    assert response.json()["status"] == "error"
    assert [record.exc_info[1].args for record in caplog.records] == [("a bug",)]
    assert token not in caplog.text
