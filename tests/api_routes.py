"""The API's URLs as Django's resolver knows them (not a hand list), so a test that walks them
covers a new endpoint the day it is added, and the paths that name the objects of the populated
world (tests/access_world.py). Used by test_api_options.py and test_api_lists.py."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from incidents.timeline import api as incidents_api
from tests.access_world import KWARGS, World

PREFIX = "api/v1/"
# Path parameters with more than one value worth trying.
CHOICES = {"action": sorted(incidents_api.ACTIONS)}


def _walk(resolver, prefix: str = "", names: tuple = ()):
    for pattern in resolver.url_patterns:
        # A regular expression's "^" would hide its route from the PREFIX (the drills' did).
        route = prefix + str(pattern.pattern).removeprefix("^")
        groups = names + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, route, groups)
        elif isinstance(pattern, URLPattern):
            yield route, pattern, groups


def _answers(pattern: URLPattern, method: str | None) -> bool:
    view = getattr(pattern.callback, "view_class", None)
    return method is None or view is None or hasattr(view, method)


def api_patterns(method: str | None = None) -> list:
    """pytest params (route, url name, path parameter names) of every URL pattern under
    /api/v1/ (whose view answers `method`, e.g. "get", if given), each with its route as id."""
    found = [
        pytest.param(route, pattern.name, names, id=route)
        for route, pattern, names in _walk(get_resolver())
        if route.startswith(PREFIX) and _answers(pattern, method)
    ]
    assert len(found) > 20, "the resolver lists the API's URLs"
    return found


def api_paths(world: World, route: str, name: str, names: tuple) -> list[str]:
    """The paths of one URL pattern, naming the world's objects (one per CHOICES value)."""
    assert name, f"{route}: name the URL pattern, so it can be reversed"
    unknown = [n for n in names if n not in KWARGS and n not in CHOICES]
    assert not unknown, f"{route}: map {unknown} to the world's objects in KWARGS"
    variants = [{}]
    for n in names:
        values = CHOICES.get(n) or [KWARGS[n](world)]
        variants = [{**variant, n: value} for variant in variants for value in values]
    return [reverse(name, kwargs=variant) for variant in variants]
