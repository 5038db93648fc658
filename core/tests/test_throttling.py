"""The API is throttled per user (counters in the shared cache, so the limit holds across
web processes); alert intake is not."""

import json

import pytest
from django.core.cache import cache
from rest_framework.throttling import UserRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_per_minute(monkeypatch, users):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "3/min"})
    for user in users.values():
        cache.delete(f"throttle_user_{user.pk}")
    yield
    for user in users.values():
        cache.delete(f"throttle_user_{user.pk}")


def test_the_api_answers_429_with_retry_after(client, users, three_per_minute):
    client.force_login(users["viewer"])
    statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/me/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"].lower()


def test_alert_intake_is_never_throttled(client, users, integration, three_per_minute):
    _, token = integration
    body = json.dumps({"version": "4", "groupKey": "g", "status": "firing", "alerts": []})
    statuses = {
        client.post(
            f"/hooks/alertmanager/{token}", body, content_type="application/json"
        ).status_code
        for _ in range(6)
    }
    assert statuses == {202}
