"""A URL under /api/ that no pattern matches answers 404 in JSON, as the API's views do and
the schema documents, not with Django's HTML page: schemathesis's coverage phase sends path
parameters of the wrong type (/api/v1/tokens/AAA/, 0.5, true, null), which the URL
converters refuse before any view runs."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/tokens/AAA/"),
        ("GET", "/api/v1/incidents/0.5/"),
        ("POST", "/api/v1/incidents/1/null%2Cnull/"),
        ("POST", "/api/v1/drills/true/attach/"),
        ("GET", "/api/v1/no-such-thing/"),
    ],
)
def test_it_answers_an_unknown_api_url_in_json(client, users, method, path):
    client.force_login(users["manager"])
    response = client.generic(method, path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_it_answers_anonymous_callers_the_same(client):
    response = client.get("/api/v1/tokens/AAA/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_is_still_a_page(client, users):
    client.force_login(users["manager"])
    response = client.get("/incidents/AAA/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
