"""Notification rules and the test page through the API: your own rules only, validated
(delay 0..24 h, your own method, a known urgency, no duplicates), audited, paged like every
list, documented in the schema; and the services' refusals as a table."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from core.errors import FieldErrors
from core.models import AuditEntry
from incidents.models import ContactMethod, Notification, NotificationRule
from incidents.notify import rules_changes

pytestmark = pytest.mark.django_db

JSON = "application/json"
URL = "/api/v1/notification-rules/"
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def method(user, address=None, kind="email", **options):
    options.setdefault("verified_at", timezone.now())
    return ContactMethod.objects.create(
        user=user, kind=kind, address=address or f"{user.username}@example.com", **options
    )


def add(client, contact, **fields):
    body = {"urgency": "high", "delay_seconds": 0, "contact_method": contact.pk, **fields}
    return client.post(URL, body, JSON)


@pytest.mark.parametrize("role", ["manager", "responder", "viewer", "outsider"])
def test_everyone_manages_their_own_rules(client, users, role):
    user = users[role]
    mail = method(user)
    client.force_login(user)
    response = add(client, mail, delay_seconds=120)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["urgency"] == "high" and created["delay_seconds"] == 120
    assert created["contact_method"] == mail.pk
    assert created["contact_method_kind"] == "email"
    assert created["contact_method_address"] == mail.address
    listed = client.get(URL).json()
    assert listed["count"] == 1 and [r["id"] for r in listed["results"]] == [created["id"]]
    detail = f"{URL}{created['id']}/"
    assert client.get(detail).json() == created
    changed = client.patch(detail, {"delay_seconds": 300, "urgency": "low"}, JSON)
    assert changed.status_code == 200, changed.content
    assert (changed.json()["delay_seconds"], changed.json()["urgency"]) == (300, "low")
    assert client.delete(detail).status_code == 204
    assert not NotificationRule.objects.exists()
    entries = AuditEntry.objects.filter(actor=user).order_by("id")
    assert [e.action for e in entries] == [
        "notification_rule.created",
        "notification_rule.updated",
        "notification_rule.deleted",
    ]
    assert entries[1].changes["delay_seconds"] == [120, 300]
    assert "after 5 min" in entries[1].summary


def test_someone_elses_rules_do_not_exist_for_you(client, users):
    theirs = rules_changes.notification_rule_create(
        user=users["responder"],
        urgency="high",
        delay_seconds=0,
        contact_method_id=method(users["responder"]).pk,
    )
    for role in ("manager", "outsider", "viewer"):
        client.force_login(users[role])
        assert client.get(URL).json()["count"] == 0
        detail = f"{URL}{theirs.pk}/"
        assert client.get(detail).status_code == 404
        assert client.patch(detail, {"delay_seconds": 60}, JSON).status_code == 404
        assert client.delete(detail).status_code == 404
    theirs.refresh_from_db()
    assert theirs.delay_seconds == 0


def test_a_rule_can_only_use_your_own_contact_method(client, users):
    mine, theirs = method(users["manager"]), method(users["responder"])
    client.force_login(users["manager"])
    response = add(client, theirs)
    assert response.status_code == 400
    assert response.json() == {"contact_method": ["Choose one of your own contact methods."]}
    rule = add(client, mine).json()
    response = client.patch(f"{URL}{rule['id']}/", {"contact_method": theirs.pk}, JSON)
    assert response.status_code == 400 and "contact_method" in response.json()
    assert NotificationRule.objects.get().contact_method == mine


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"delay_seconds": -1}, "delay_seconds"),
        ({"delay_seconds": 24 * 3600 + 1}, "delay_seconds"),
        ({"delay_seconds": "soon"}, "delay_seconds"),
        ({"delay_seconds": 1.5}, "delay_seconds"),
        ({"urgency": "medium"}, "urgency"),
        ({"urgency": None}, "urgency"),
        ({"contact_method": 0}, "contact_method"),
        ({"contact_method": 10**12}, "contact_method"),
        ({"contact_method": "email"}, "contact_method"),
    ],
)
def test_bad_rules_are_refused_with_the_field_named(client, users, fields, field):
    client.force_login(users["manager"])
    response = add(client, method(users["manager"]), **fields)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not NotificationRule.objects.exists()


def test_the_longest_delay_is_a_day(client, users):
    client.force_login(users["manager"])
    response = add(client, method(users["manager"]), delay_seconds=24 * 3600)
    assert response.status_code == 201


def test_the_same_rule_twice_is_refused(client, users):
    mail = method(users["manager"])
    client.force_login(users["manager"])
    assert add(client, mail, delay_seconds=60).status_code == 201
    response = add(client, mail, delay_seconds=60)
    assert response.status_code == 400
    assert response.json()["contact_method"] == [
        "You already have this rule (high urgency, after 1 min)."
    ]
    # The same method at another delay, or for the other urgency, is another rule.
    assert add(client, mail, delay_seconds=300).status_code == 201
    other = add(client, mail, delay_seconds=60, urgency="low").json()
    # ...and a change that would make a duplicate is refused too.
    response = client.patch(f"{URL}{other['id']}/", {"urgency": "high"}, JSON)
    assert response.status_code == 400
    assert NotificationRule.objects.count() == 3


@pytest.mark.parametrize(
    "fields",
    [
        {"urgency": "urgent"},
        {"delay_seconds": True},
        {"delay_seconds": -5},
        {"delay_seconds": 86401},
        {"contact_method_id": None},
        {"contact_method_id": True},
        {"owner": 3},
    ],
)
def test_the_service_refuses_what_the_api_would(users, fields):
    mail = method(users["manager"])
    good = {"urgency": "high", "delay_seconds": 0, "contact_method_id": mail.pk}
    rule = rules_changes.notification_rule_create(user=users["manager"], **good)
    with pytest.raises(FieldErrors):
        rules_changes.notification_rule_update(actor=users["manager"], rule=rule, **fields)
    if "owner" not in fields:
        with pytest.raises(FieldErrors):
            rules_changes.notification_rule_create(user=users["manager"], **{**good, **fields})
    rule.refresh_from_db()
    assert (rule.urgency, rule.delay_seconds, rule.contact_method_id) == ("high", 0, mail.pk)


def test_a_person_has_at_most_so_many_rules(users):
    mail = method(users["manager"])
    for n in range(rules_changes.MAX_RULES_PER_USER):
        rules_changes.notification_rule_create(
            user=users["manager"], urgency="high", delay_seconds=n, contact_method_id=mail.pk
        )
    with pytest.raises(FieldErrors):
        rules_changes.notification_rule_create(
            user=users["manager"], urgency="low", delay_seconds=0, contact_method_id=mail.pk
        )


def test_the_list_is_paged_ordered_and_filtered_by_urgency(client, users):
    mail, hook = (
        method(users["manager"]),
        method(users["manager"], "https://hooks.example.com/x", "webhook"),
    )
    for urgency, delay, contact in [("low", 0, mail), ("high", 300, hook), ("high", 0, mail)]:
        rules_changes.notification_rule_create(
            user=users["manager"],
            urgency=urgency,
            delay_seconds=delay,
            contact_method_id=contact.pk,
        )
    client.force_login(users["manager"])
    page = client.get(URL, {"page_size": 2}).json()
    assert page["count"] == 3 and page["next"]
    seen = [(r["urgency"], r["delay_seconds"]) for r in page["results"]]
    seen += [(r["urgency"], r["delay_seconds"]) for r in client.get(page["next"]).json()["results"]]
    assert seen == [("high", 0), ("high", 300), ("low", 0)]
    low = client.get(URL, {"urgency": "low"}).json()
    assert [r["urgency"] for r in low["results"]] == ["low"]
    assert client.get(URL, {"urgency": "loud"}).status_code == 400


def test_the_schema_documents_the_rules_and_the_test_page(client, users):
    client.force_login(users["viewer"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/notification-rules/"])
    detail = schema["paths"]["/api/v1/notification-rules/{notification_rule_id}/"]
    assert {"get", "patch", "delete"} <= set(detail)
    listed = schema["paths"]["/api/v1/notification-rules/"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"page", "urgency"}
    assert "post" in schema["paths"]["/api/v1/test-page/"]
    service = schema["components"]["schemas"]["Service"]["properties"]
    assert "high_urgency_severities" in service


# --- the test page ----------------------------------------------------------------------------


def test_a_test_page_runs_your_rules_at_their_delays(
    client, users, django_capture_on_commit_callbacks, monkeypatch
):
    from incidents.notify import sending

    queued = []
    monkeypatch.setattr(sending, "_enqueue", lambda pk, eta=None: queued.append((pk, eta)))
    user = users["responder"]
    mail, hook = method(user), method(user, "https://hooks.example.com/x", "webhook")
    method(user, "off@example.com", enabled=False)
    rules_changes.notification_rule_create(
        user=user, urgency="high", delay_seconds=0, contact_method_id=mail.pk
    )
    rules_changes.notification_rule_create(
        user=user, urgency="high", delay_seconds=120, contact_method_id=hook.pk
    )
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/test-page/", {"urgency": "high"}, JSON)
    assert response.status_code == 202, response.content
    rows = response.json()["queued"]
    assert [(r["channel"], r["contact_method"]) for r in rows] == [
        ("email", mail.pk),
        ("webhook", hook.pk),
    ]
    first, second = Notification.objects.order_by("id")
    assert first.reason == second.reason == "test_page" and first.incident is None
    assert second.next_attempt_at - first.next_attempt_at == timedelta(seconds=120)
    assert "step 2 of 2" in second.subject and "after 2 min" in second.text
    assert queued == [(first.pk, None), (second.pk, second.next_attempt_at)]

    again = client.post("/api/v1/test-page/", {}, JSON)
    assert again.status_code == 429 and int(again["Retry-After"]) >= 1
    assert Notification.objects.count() == 2


def test_a_test_page_without_rules_reaches_every_method_that_can_be_paged(client, users):
    user = users["viewer"]
    method(user)
    method(user, "https://hooks.example.com/x", "webhook")
    method(user, "new@example.com", verified_at=None)
    client.force_login(user)
    response = client.post("/api/v1/test-page/", {"urgency": "low"}, JSON)
    assert response.status_code == 202
    assert sorted(r["channel"] for r in response.json()["queued"]) == ["email", "webhook"]


def test_a_test_page_with_nothing_to_reach_says_so(client, users):
    client.force_login(users["viewer"])
    method(users["viewer"], enabled=False)
    response = client.post("/api/v1/test-page/", {}, JSON)
    assert response.status_code == 400
    assert "None of your contact methods can be paged" in response.json()["urgency"][0]
    assert client.post("/api/v1/test-page/", {"urgency": "x"}, JSON).status_code == 400
    assert not Notification.objects.exists()


def test_a_test_page_is_sent_by_the_real_transport(users, settings):
    """Through notification_send like a page: the email arrives, marked as a test."""
    from django.core import mail as outbox

    from incidents.notify import sending

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = users["responder"]
    method(user)
    (row,) = rules_changes.user_test_page(user=user, now=T0)
    assert sending.notification_send(notification_id=row.pk, now=T0) == "sent"
    (message,) = outbox.outbox
    assert message.subject == "[Pagerline] Test page, step 1 of 1"
    assert "Nothing is wrong" in message.body and "/a/" not in message.body
