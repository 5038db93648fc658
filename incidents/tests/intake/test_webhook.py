import json

import pytest

from incidents.models import AlertDelivery, DeliveryStatus
from tests.support import fixture_json, post_json

pytestmark = pytest.mark.django_db


def test_it_stores_the_body_and_answers_202(hook_client, integration):
    _, token = integration
    body = json.dumps(fixture_json("alertmanager/firing.json"))
    response = post_json(hook_client, f"/hooks/alertmanager/{token}", body)
    assert response.status_code == 202
    delivery = AlertDelivery.objects.get()
    assert response.json() == {"status": "accepted", "delivery": delivery.pk}
    assert delivery.body == body
    assert delivery.status == DeliveryStatus.PENDING


def test_it_accepts_the_token_as_a_bearer_header(hook_client, integration):
    _, token = integration
    body = json.dumps(fixture_json("alertmanager/firing.json"))
    response = post_json(hook_client, "/hooks/alertmanager", body, Authorization=f"Bearer {token}")
    assert response.status_code == 202
    assert AlertDelivery.objects.count() == 1


def test_it_stores_only_a_hash_of_the_token(integration):
    record, token = integration
    assert token not in record.token_hash
    assert len(record.token_hash) == 64


GOOD = json.dumps(fixture_json("alertmanager/firing.json"))


@pytest.mark.parametrize(
    ("case", "body", "content_type", "token", "status", "message"),
    [
        ("invalid JSON", "{not json", "application/json", "good", 400, "not valid JSON"),
        ("NaN literal", '{"alerts": [], "x": NaN}', "application/json", "good", 400, "NaN"),
        ("Infinity", '{"alerts": [], "x": Infinity}', "application/json", "good", 400, "Infinity"),
        ("top-level list", "[1, 2]", "application/json", "good", 400, "payload is not a valid"),
        ("bad UTF-8", b'{"alerts": "\xff"}', "application/json", "good", 400, "UTF-8"),
        ("too deep", "[" * 100 + "]" * 100, "application/json", "good", 400, "nested"),
        # Once "not valid JSON": Python's json module gave up with RecursionError.
        ("far too deep", "[" * 100_000 + "]" * 100_000, "application/json", "good", 400, "nested"),
        (
            "oversized",
            '{"a": "' + "x" * (1024 * 1024) + '"}',
            "application/json",
            "good",
            413,
            "larger",
        ),
        ("unknown token", GOOD, "application/json", "wrong-token", 404, "no such integration"),
        ("missing token", GOOD, "application/json", "", 404, "no such integration"),
        ("form body", "a=1", "application/x-www-form-urlencoded", "good", 415, "Content-Type"),
        ("text body", GOOD, "text/plain", "good", 415, "Content-Type"),
    ],
)
def test_it_rejects_bad_input_and_stores_nothing(
    hook_client, integration, case, body, content_type, token, status, message
):
    _, good_token = integration
    token = good_token if token == "good" else token
    url = f"/hooks/alertmanager/{token}" if token else "/hooks/alertmanager"
    response = post_json(hook_client, url, body, content_type=content_type)
    assert response.status_code == status, case
    assert response["Content-Type"] == "application/json"
    assert message in response.json()["message"], response.json()
    assert AlertDelivery.objects.count() == 0


def test_unknown_and_missing_tokens_get_the_same_answer(hook_client, integration):
    unknown = post_json(hook_client, "/hooks/alertmanager/nope", GOOD)
    missing = post_json(hook_client, "/hooks/alertmanager", GOOD)
    assert unknown.status_code == missing.status_code == 404
    assert unknown.json() == missing.json()


def test_it_refuses_a_token_of_another_source(hook_client, integration):
    _, token = integration
    response = post_json(hook_client, f"/hooks/other/{token}", GOOD)
    assert response.status_code == 404


def test_it_refuses_get(hook_client, integration):
    _, token = integration
    response = hook_client.get(f"/hooks/alertmanager/{token}")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_it_answers_503_when_the_database_is_down(hook_client, integration, monkeypatch):
    from django.db import OperationalError

    from incidents.intake import store

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(store, "delivery_accept", down)
    _, token = integration
    response = post_json(hook_client, f"/hooks/alertmanager/{token}", GOOD)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_an_outage_logs_one_line_per_refused_webhook_not_a_traceback(
    hook_client, integration, monkeypatch, caplog
):
    """While PostgreSQL is down every webhook is refused: the log says so once per refusal,
    without a traceback each (an outage at 1,000 alerts/s would flood the log)."""
    from django.db import OperationalError

    from incidents.intake import store

    def down(**kwargs):
        raise OperationalError("connection failed: Connection refused\n\tIs the server running?")

    monkeypatch.setattr(store, "delivery_accept", down)
    _, token = integration
    with caplog.at_level("ERROR", logger="incidents.intake.webhooks"):
        response = post_json(hook_client, f"/hooks/alertmanager/{token}", GOOD)
    assert response.status_code == 503
    [record] = [r for r in caplog.records if r.name == "incidents.intake.webhooks"]
    assert record.getMessage() == (
        "database unavailable while storing a delivery: "
        "OperationalError: connection failed: Connection refused"
    )
    assert record.exc_info is None


def test_another_database_error_while_storing_keeps_its_traceback(
    hook_client, integration, monkeypatch, caplog
):
    from django.db import IntegrityError

    from incidents.intake import store

    def broken(**kwargs):
        raise IntegrityError("null value in column")

    monkeypatch.setattr(store, "delivery_accept", broken)
    _, token = integration
    with caplog.at_level("ERROR", logger="incidents.intake.webhooks"):
        response = post_json(hook_client, f"/hooks/alertmanager/{token}", GOOD)
    assert response.status_code == 503
    [record] = [r for r in caplog.records if r.name == "incidents.intake.webhooks"]
    assert record.exc_info is not None
