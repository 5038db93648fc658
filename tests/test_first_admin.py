"""The first run: on an empty database any page leads to the first-administrator page,
which creates one staff superuser, once, and is gone afterwards."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from core import first_run
from core.models import Milestone
from oncall.tests.factories import make_user

URL = "/setup/first-admin/"
GOOD = {
    "username": "ada",
    "email": "ada@example.com",
    "password": "lantern orbit 1843",
    "password_again": "lantern orbit 1843",
}


def test_any_page_leads_to_the_first_admin_page_on_an_empty_database(client, db):
    for path in ("/", "/incidents/", "/accounts/login/", "/schedules/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == URL


def test_machines_get_their_usual_answers_on_an_empty_database(client, db):
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/me/").status_code in (401, 403)
    assert client.get("/hooks/alertmanager/not-a-token").status_code != 302


def test_the_page_asks_for_username_email_and_the_password_twice(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("username", "email", "password", "password_again"):
        assert f'<label for="id_{name}">' in body and f'id="id_{name}"' in body
    assert "createsuperuser" in body


def test_it_creates_a_staff_superuser_and_signs_them_in(client, db):
    response = client.post(URL, GOOD)
    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get()
    assert (user.username, user.email) == ("ada", "ada@example.com")
    assert user.is_staff and user.is_superuser and user.check_password(GOOD["password"])
    assert client.get("/").status_code == 200  # signed in: the dashboard, not a redirect


def test_the_page_is_gone_for_good_afterwards(client, db):
    client.post(URL, GOOD)
    client.logout()
    assert client.get(URL).status_code == 404
    again = client.post(URL, {**GOOD, "username": "mallory"})
    assert again.status_code == 404
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["ada"]
    # The milestone keeps it closed even if every account were deleted later.
    get_user_model().objects.all().delete()
    assert client.get(URL).status_code == 404
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_an_installation_set_up_with_createsuperuser_has_no_first_run_page(client, db):
    make_user("root", is_staff=True, is_superuser=True)
    assert client.get(URL).status_code == 404
    assert client.get("/")["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"password_again": "something else 99"}, "password_again", "The two passwords differ"),
        ({"password": "password", "password_again": "password"}, "password", "too common"),
        ({"password": "4815", "password_again": "4815"}, "password", "too short"),
        ({"password": "48151623", "password_again": "48151623"}, "password", "entirely numeric"),
        (
            {"password": "ada@example.com", "password_again": "ada@example.com"},
            "password",
            "similar",
        ),
        ({"email": "not an address"}, "email", "Enter an email address"),
        ({"username": "no spaces please"}, "username", "valid username"),
        ({"username": ""}, "username", "required"),
    ],
)
def test_bad_input_is_refused_next_to_its_field(client, db, change, field, message):
    response = client.post(URL, {**GOOD, **change})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert message.lower() in " ".join(errors[field]).lower(), errors
    assert f'data-field="{field}"' in response.content.decode()
    assert not get_user_model().objects.exists()
    assert not Milestone.objects.exists()
    assert client.get(URL).status_code == 200  # still open


def test_two_submissions_at_once_create_one_administrator(transactional_db, monkeypatch):
    """Both requests pass the "nobody yet" check; the milestone's primary key lets one
    through. The first holds its transaction open while creating the user, so the second
    really runs into it."""
    original = first_run._create_admin

    def slow(**kwargs):
        time.sleep(0.5)
        return original(**kwargs)

    monkeypatch.setattr(first_run, "_create_admin", slow)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(name: str) -> None:
        try:
            start.wait()
            first_run.first_admin_create(
                username=name,
                email=f"{name}@example.com",
                password="lantern orbit 1843",
                password_again="lantern orbit 1843",
            )
            outcomes.append("created")
        except first_run.FirstRunClosed:
            outcomes.append("closed")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(name,)) for name in ("ada", "grace")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["closed", "created"]
    assert get_user_model().objects.count() == 1
    assert not first_run.first_run_open()
