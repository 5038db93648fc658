"""Every API view answers OPTIONS: 200 to a manager of the team, never a 5xx to anyone.

The URLs are every pattern under /api/v1/ that Django's resolver knows (tests/api_routes.py,
not a hand list), so a new endpoint is covered the day it is added. Path parameters name the
objects of one populated world (tests/access_world.py; an incident action takes each of its
actions). The OpenAPI schema lists no OPTIONS operations, so the schema fuzzing
(test_schemathesis.py) does not send them from the schema; this test does, for each view.
"""

from __future__ import annotations

import pytest

from core.metadata import ApiMetadata
from tests.api_routes import api_paths, api_patterns


def test_the_api_uses_the_metadata_that_never_fails():
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_METADATA_CLASS is ApiMetadata


@pytest.mark.parametrize(("route", "name", "names"), api_patterns())
def test_every_api_view_answers_options(client, db, world, route, name, names):
    for role in ("manager", "viewer", "outsider", "anonymous"):
        client.logout()
        if role != "anonymous":
            client.force_login(world.users[role])
        for path in api_paths(world, route, name, names):
            response = client.options(path)
            assert response.status_code < 500, f"OPTIONS {path} as {role}: {response.content}"
            if role == "manager":
                assert response.status_code == 200, f"OPTIONS {path}: {response.content}"
                assert response["Content-Type"] == "application/json"
                assert response.json()["name"], path
                allowed = {method.strip() for method in response["Allow"].split(",")}
                assert "OPTIONS" in allowed and allowed - {"OPTIONS"}, path


def test_a_paginated_view_without_a_serializer_answers_options(client, db, world):
    """The two views that once answered 500 (SimpleMetadata wanted a serializer_class)."""
    client.force_login(world.users["manager"])
    for path in (
        "/api/v1/schedules/",
        f"/api/v1/schedules/{world.schedule.pk}/overrides/",
    ):
        response = client.options(path)
        assert response.status_code == 200, response.content
        assert {"name", "description", "renders", "parses"} <= set(response.json())
