"""Guessing passwords and API tokens is throttled per client address (and per account from an
address), never by locking the account: the right person elsewhere always gets in."""

import pytest
from django.core.cache import cache

from core import signin_guard
from core.models import AuditEntry
from oncall.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

THROTTLED = "Too many failed sign-ins from this address; try again in 15 minutes."


@pytest.fixture
def now(monkeypatch):
    """A clock the test moves: `now.value += 16 * 60` passes the cool-down."""

    class Clock:
        value = 1_800_000_000.0

    monkeypatch.setattr(signin_guard, "clock", lambda: Clock.value)
    return Clock


@pytest.fixture(autouse=True)
def _forget_counters():
    """Cool-down records outlive a test run by a day: a later run reusing this process id
    (hence cache prefix) must not find them."""
    yield
    redis = cache._cache.get_client(None, write=True)
    for key in redis.scan_iter(match=f"{cache.key_prefix}:*:{signin_guard.KEY_PREFIX}:*"):
        redis.delete(key)


def sign_in(client, username, password, address, **headers):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def test_40_wrong_passwords_are_throttled_with_a_message(client, users, now):
    statuses = []
    for attempt in range(40):
        response = sign_in(client, "responder", f"guess {attempt}", "203.0.113.10")
        statuses.append(response.status_code)
        page = response.content.decode()
    # The fifth failure for the account from this address starts the cool-down.
    assert statuses[:4] == [200] * 4
    assert set(statuses[4:]) == {429}
    assert THROTTLED in page
    assert response["Retry-After"] == str(15 * 60)
    # The right password from the throttled address is refused too during the cool-down...
    refused = sign_in(client, "responder", PASSWORD, "203.0.113.10")
    assert refused.status_code == 429 and THROTTLED in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_right_password_from_another_address_still_works(client, users, now):
    for attempt in range(40):
        sign_in(client, "responder", f"guess {attempt}", "203.0.113.11")
    response = sign_in(client, "responder", PASSWORD, "198.51.100.11")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(users["responder"].pk)


def test_the_throttled_address_signs_in_again_after_the_cool_down(client, users, now):
    for attempt in range(6):
        sign_in(client, "responder", f"guess {attempt}", "203.0.113.12")
    assert sign_in(client, "responder", PASSWORD, "203.0.113.12").status_code == 429
    now.value += 14 * 60
    still = sign_in(client, "responder", PASSWORD, "203.0.113.12")
    assert "try again in 1 minute." in still.content.decode()
    now.value += 61
    response = sign_in(client, "responder", PASSWORD, "203.0.113.12")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(users["responder"].pk)


def test_an_address_guessing_many_accounts_is_throttled_as_a_whole(client, users, now):
    names = ["manager", "responder", "viewer", "outsider", "nobody"]
    statuses = [
        sign_in(client, names[attempt % 5], "wrong", "203.0.113.13").status_code
        for attempt in range(11)
    ]
    assert statuses[:9] == [200] * 9 and statuses[9:] == [429, 429]
    # ... and a right password from there waits too, while elsewhere it works.
    assert sign_in(client, "viewer", PASSWORD, "203.0.113.13").status_code == 429
    assert sign_in(client, "viewer", PASSWORD, "198.51.100.13").status_code == 302


def test_throttling_and_its_release_are_audited(client, users, now):
    for attempt in range(8):
        sign_in(client, "responder", f"guess {attempt}", "203.0.113.14")
    throttled = AuditEntry.objects.get(action="signin-account.throttled")
    assert throttled.object_id == "203.0.113.14" and throttled.actor is None
    assert "5 failed sign-ins from 203.0.113.14" in throttled.summary
    assert "guess" not in str(throttled.changes)  # no password in the audit log
    now.value += 16 * 60
    sign_in(client, "responder", PASSWORD, "203.0.113.14")
    released = AuditEntry.objects.get(action="signin-account.released")
    assert released.changes == {"address": "203.0.113.14", "refused": 3}


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(client, users, now, settings):
    import ipaddress

    settings.PAGERLINE_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    # Through the proxy, two clients are told apart by X-Forwarded-For.
    for _ in range(6):
        sign_in(client, "viewer", "wrong", "10.1.2.3", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.15")
    assert (
        sign_in(client, "viewer", PASSWORD, "10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.15")
    ).status_code == 429
    assert (
        sign_in(client, "viewer", PASSWORD, "10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.15")
    ).status_code == 302
    # Anyone else's X-Forwarded-For is ignored: a guesser cannot pose as a new client each time.
    client.logout()
    statuses = [
        sign_in(
            client, "viewer", "wrong", "203.0.113.16", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}"
        ).status_code
        for attempt in range(6)
    ]
    assert statuses[-1] == 429


def test_password_reset_requests_are_throttled_per_address(client, users, now, mailoutbox):
    statuses = [
        client.post(
            "/accounts/password-reset/",
            {"email": "someone@example.com"},
            REMOTE_ADDR="203.0.113.17",
        ).status_code
        for _ in range(7)
    ]
    assert statuses == [302] * 5 + [429, 429]
    page = client.post(
        "/accounts/password-reset/", {"email": "x@example.com"}, REMOTE_ADDR="203.0.113.17"
    ).content.decode()
    assert "Too many password reset requests from this address" in page
    other = client.post(
        "/accounts/password-reset/", {"email": "x@example.com"}, REMOTE_ADDR="198.51.100.17"
    )
    assert other.status_code == 302


def test_api_token_guessing_answers_429_with_retry_after(client, users, now):
    from core.services import api_token_create

    _, plain = api_token_create(user=users["viewer"], name="ci")
    statuses = [
        client.get(
            "/api/v1/me/",
            HTTP_AUTHORIZATION=f"Bearer pl_guess{attempt}",
            REMOTE_ADDR="203.0.113.18",
        ).status_code
        for attempt in range(12)
    ]
    assert statuses[:9] == [401] * 9 and set(statuses[9:]) == {429}
    response = client.get(
        "/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {plain}", REMOTE_ADDR="203.0.113.18"
    )
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    assert "Too many failed API token attempts" in response.json()["detail"]
    assert AuditEntry.objects.filter(action="api-token.throttled").count() == 1
    # The same token from another address works.
    elsewhere = client.get(
        "/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {plain}", REMOTE_ADDR="198.51.100.18"
    )
    assert elsewhere.status_code == 200
    now.value += 16 * 60
    again = client.get(
        "/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {plain}", REMOTE_ADDR="203.0.113.18"
    )
    assert again.status_code == 200
    assert AuditEntry.objects.filter(action="api-token.released").count() == 1


def test_the_counters_are_in_the_shared_cache(client, users, now):
    sign_in(client, "responder", "wrong", "203.0.113.19")
    redis = cache._cache.get_client(None, write=True)
    keys = list(redis.scan_iter(match=f"{cache.key_prefix}:*:{signin_guard.KEY_PREFIX}:*"))
    assert len(keys) == 2  # the address's count and the account's from it


def test_an_unreachable_cache_refuses_nobody(client, users, now, monkeypatch):
    from redis.exceptions import ConnectionError

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    for name in ("get", "add", "incr", "set", "delete"):
        monkeypatch.setattr(cache, name, down)
    assert sign_in(client, "responder", "wrong", "203.0.113.20").status_code == 200
    assert sign_in(client, "responder", PASSWORD, "203.0.113.20").status_code == 302


def test_the_admin_signs_in_through_the_throttled_page(client, users):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
