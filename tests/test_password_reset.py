"""Forgotten passwords: the login page links to the reset form; the email goes through a
real SMTP server (the `smtp` sink) with a link on PAGERLINE_BASE_URL that works once."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model

from oncall.tests.factories import make_user

NEW = "tidal compass 2071"


def _link(smtp) -> str:
    text = smtp.messages[-1].get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/accounts/reset/\S+/", text).group(0)


def test_the_login_page_links_to_the_reset_form(client, db):
    make_user("someone")
    body = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password-reset/"' in body
    form = client.get("/accounts/password-reset/").content.decode()
    assert '<label for="id_email">' in form


def test_a_forgotten_password_is_reset_through_the_emailed_link(client, db, smtp, settings):
    settings.PAGERLINE_BASE_URL = "https://pager.example.org"
    make_user("grace", email="grace@example.com")
    response = client.post("/accounts/password-reset/", {"email": "grace@example.com"})
    assert response.status_code == 302
    assert "Check your email" in client.get(response["Location"]).content.decode()
    assert smtp.recipients == ["grace@example.com"]
    assert smtp.messages[0]["Subject"] == "Reset your Pagerline password"
    link = _link(smtp)
    assert link.startswith("https://pager.example.org/accounts/reset/")
    path = link.removeprefix("https://pager.example.org")

    form = client.get(path, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}, follow=True
    )
    assert "Password changed" in done.content.decode()
    assert get_user_model().objects.get(username="grace").check_password(NEW)
    assert client.login(username="grace", password=NEW)
    client.logout()

    again = client.get(path, follow=True)
    assert "This link does not work" in again.content.decode()


def test_a_weak_new_password_is_refused_next_to_its_field(client, db, smtp):
    make_user("grace", email="grace@example.com")
    client.post("/accounts/password-reset/", {"email": "grace@example.com"})
    path = re.sub(r"^https?://[^/]+", "", _link(smtp))
    form = client.get(path, follow=True)
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"}
    )
    assert response.status_code == 200
    assert 'data-field="new_password2"' in response.content.decode()
    assert get_user_model().objects.get(username="grace").check_password("correct horse 42")


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, db, smtp):
    make_user("grace", email="grace@example.com")
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/sent/"
    assert smtp.messages == []


def test_a_forged_reset_link_changes_nothing(client, db):
    user = make_user("grace", email="grace@example.com")
    response = client.get("/accounts/reset/MQ/forged-token/", follow=True)
    assert "This link does not work" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("correct horse 42")
