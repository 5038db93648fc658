"""Every API view answers OPTIONS: 200 to a manager of the team, never a 5xx to anyone.

The URLs are every pattern under /api/v1/ that Django's resolver knows (not a hand list), so
a new endpoint is covered the day it is added. Path parameters name the objects of one
populated world (tests/access_world.py; an incident action takes each of its actions). The
OpenAPI schema lists no OPTIONS operations, so the schema fuzzing (test_schemathesis.py)
does not send them from the schema; this test does, for each view.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.metadata import ApiMetadata
from tests.access_world import World, module_world, path_variants

PREFIX = "api/v1/"


def _walk(resolver, prefix: str = "", names: tuple = ()):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        groups = names + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, route, groups)
        elif isinstance(pattern, URLPattern):
            yield route, pattern, groups


def _api_patterns() -> list:
    """(route, url name, path parameter names) of every URL pattern under /api/v1/."""
    found = [
        pytest.param(route, pattern.name, names, id=route)
        for route, pattern, names in _walk(get_resolver())
        if route.startswith(PREFIX)
    ]
    assert len(found) > 20, "the resolver lists the API's URLs"
    return found


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with module_world(django_db_blocker) as built:
        yield built


def _paths(world: World, route: str, name: str, names: tuple) -> list[str]:
    assert name, f"{route}: name the URL pattern, so it can be reversed"
    return [reverse(name, kwargs=variant) for variant in path_variants(world, names)]


def test_the_api_uses_the_metadata_that_never_fails():
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_METADATA_CLASS is ApiMetadata


@pytest.mark.parametrize(("route", "name", "names"), _api_patterns())
def test_every_api_view_answers_options(client, db, world, route, name, names):
    for role in ("manager", "viewer", "outsider", "anonymous"):
        client.logout()
        if role != "anonymous":
            client.force_login(world.users[role])
        for path in _paths(world, route, name, names):
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
