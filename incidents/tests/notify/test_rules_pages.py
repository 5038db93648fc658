"""The notification rules page: two lists (high, low urgency) of "after N minutes ->
method", add and remove, errors next to their fields, and the test page button."""

import pytest
from django.utils import timezone

from incidents.models import ContactMethod, Notification, NotificationRule
from incidents.notify import rules_changes

pytestmark = pytest.mark.django_db

URL = "/account/notification-rules/"


@pytest.fixture
def me(client, users):
    user = users["responder"]
    client.force_login(user)
    return user


def method(user, address, kind="email", **options):
    options.setdefault("verified_at", timezone.now())
    return ContactMethod.objects.create(user=user, kind=kind, address=address, **options)


def section(page: str, urgency: str) -> str:
    start = page.index(f'data-urgency="{urgency}"')
    end = page.find("<section", start)
    return page[start : end if end != -1 else None]


def test_the_page_lists_each_urgency_in_the_order_its_steps_fire(client, me):
    mail = method(me, "me@example.com")
    hook = method(me, "https://hooks.example.com/me", "webhook")
    for urgency, delay, contact in [("high", 300, hook), ("high", 0, mail), ("low", 90, mail)]:
        rules_changes.notification_rule_create(
            user=me, urgency=urgency, delay_seconds=delay, contact_method_id=contact.pk
        )
    page = client.get(URL).content.decode()
    high, low = section(page, "high"), section(page, "low")
    assert high.index("at once") < high.index("me@example.com") < high.index("after 5 min")
    listed = low[: low.index("<form")]
    assert "hooks.example.com/me" in high and "hooks.example.com" not in listed
    assert "after 90 s" in low
    assert page.count('name="delay_minutes"') == 2  # an add form per urgency


def test_a_rule_is_added_from_the_form_in_minutes(client, me):
    mail = method(me, "me@example.com")
    response = client.post(
        URL, {"urgency": "low", "delay_minutes": "5", "contact_method": str(mail.pk)}
    )
    assert response.status_code == 302 and response["Location"] == URL
    rule = NotificationRule.objects.get()
    assert (rule.urgency, rule.delay_seconds, rule.contact_method) == ("low", 300, mail)
    page = client.get(URL).content.decode()
    assert "after 5 min" in section(page, "low") and "Low urgency: after 5 min" in page


@pytest.mark.parametrize(
    ("fields", "role", "text"),
    [
        ({"delay_minutes": "1441"}, "delay-error", "less than or equal to 1440"),
        ({"delay_minutes": "-1"}, "delay-error", "greater than or equal to 0"),
        ({"delay_minutes": "soon"}, "delay-error", "Enter a whole number"),
        ({"contact_method": "999999"}, "method-error", "Select a valid choice"),
    ],
)
def test_refused_input_is_shown_next_to_its_field_in_its_list(client, me, fields, role, text):
    mail = method(me, "me@example.com")
    body = {"urgency": "low", "delay_minutes": "0", "contact_method": str(mail.pk), **fields}
    response = client.post(URL, body)
    assert response.status_code == 400
    low = section(response.content.decode(), "low")
    assert f'data-role="{role}"' in low and text in low
    assert not NotificationRule.objects.exists()


def test_a_duplicate_is_refused_next_to_the_method(client, me):
    mail = method(me, "me@example.com")
    body = {"urgency": "high", "delay_minutes": "2", "contact_method": str(mail.pk)}
    assert client.post(URL, body).status_code == 302
    response = client.post(URL, body)
    assert response.status_code == 400
    assert "You already have this rule" in section(response.content.decode(), "high")
    assert NotificationRule.objects.count() == 1


def test_someone_elses_method_is_not_offered_nor_accepted(client, me, users):
    theirs = method(users["manager"], "boss@example.com")
    mine = method(me, "me@example.com")
    page = client.get(URL).content.decode()
    assert "boss@example.com" not in page and "me@example.com" in page
    response = client.post(
        URL, {"urgency": "high", "delay_minutes": "0", "contact_method": str(theirs.pk)}
    )
    assert response.status_code == 400
    assert not NotificationRule.objects.exists()
    assert mine.pk  # still offered


def test_a_rule_is_removed(client, me, users):
    mail = method(me, "me@example.com")
    rule = rules_changes.notification_rule_create(
        user=me, urgency="high", delay_seconds=0, contact_method_id=mail.pk
    )
    client.force_login(users["manager"])
    assert client.post(f"/account/notification-rules/{rule.pk}/delete").status_code == 404
    client.force_login(me)
    response = client.post(f"/account/notification-rules/{rule.pk}/delete")
    assert response.status_code == 302
    assert not NotificationRule.objects.exists()


def test_rules_that_cannot_reach_you_are_marked(client, me):
    off = method(me, "off@example.com", enabled=False)
    method(me, "on@example.com")
    rules_changes.notification_rule_create(
        user=me, urgency="high", delay_seconds=0, contact_method_id=off.pk
    )
    page = client.get(URL).content.decode()
    high = section(page, "high")
    assert "skipped" in high and "None of these rules can reach you now" in high
    assert "No rules: a low-urgency page reaches every method below at once" in page


def test_the_test_page_button_sends_and_says_when_the_last_step_comes(client, me):
    mail = method(me, "me@example.com")
    hook = method(me, "https://hooks.example.com/me", "webhook")
    for delay, contact in [(0, mail), (120, hook)]:
        rules_changes.notification_rule_create(
            user=me, urgency="high", delay_seconds=delay, contact_method_id=contact.pk
        )
    response = client.post("/account/test-page", {"urgency": "high"}, follow=True)
    page = response.content.decode()
    assert "Test page sent: 2 messages; the last after 2 min." in page
    assert Notification.objects.filter(reason="test_page").count() == 2
    page = client.post("/account/test-page", {"urgency": "high"}, follow=True).content.decode()
    assert "A test was sent moments ago" in page
    assert Notification.objects.count() == 2


def test_the_test_page_button_without_methods_explains(client, me):
    page = client.post("/account/test-page", {"urgency": "low"}, follow=True).content.decode()
    assert "None of your contact methods can be paged" in page


def test_the_contact_methods_page_links_to_the_rules(client, me):
    page = client.get("/account/contact-methods/").content.decode()
    assert 'href="/account/notification-rules/"' in page
