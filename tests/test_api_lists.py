"""Every list the API answers is a page of one shape (issue #13, core/pagination.py):
{"count", "next", "previous", "results"}, with `?page_size=` honoured, `next` and `previous`
links that walk the whole list once and keep the query, and the schema saying so.

The lists are found, not named: every GET under /api/v1/ that Django's resolver knows
(tests/api_routes.py) is requested as the team's manager, in one populated world
(tests/access_world.py). An answer that is a JSON array, or an object with "results", is a
list; a bare array fails, and so does a page of another shape. To show a next page each list
needs two entries: `_second_of_each` adds the second one, and a new list holding fewer fails,
naming itself.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.fields import utc_iso
from core.pagination import MAX_PAGE_SIZE, PAGE_SIZE, Pagination
from incidents.catalog import changes
from incidents.escalation import policies
from incidents.intake import heartbeats
from incidents.maintenance import windows
from incidents.models import Service
from incidents.notify import contacts, rules_changes
from incidents.timeline import actions
from metrics import drills
from oncall import invitations
from oncall import services as oncall_services
from oncall.models import Membership, Role
from tests.access_world import KWARGS, MARKER, QUERIES, World, module_world
from tests.api_routes import api_paths, api_patterns

PAGE = {"count", "next", "previous", "results"}
JSON = "application/json"

# GETs whose object holds rows, yet is no list to page, and why each is read whole.
NOT_LISTS = {
    "api-metrics-services": "one team's MTTx figures for a bounded range of weeks (at most "
    "106), with their definitions: a report, not a collection",
}

# Time ranges under which a list of the world holds two entries, the same ones from one
# request to the next (by default shifts start at the moment asked).
RANGES = {
    "api-schedule-gaps": lambda w: {
        "start": utc_iso(w.now - timedelta(days=14)),
        "end": utc_iso(w.now + timedelta(days=14)),
    },
    "api-schedule-shifts": lambda w: {
        "start": utc_iso(w.now),
        "end": utc_iso(w.now + timedelta(days=14)),
    },
}


def _second_of_each(world: World) -> None:
    """A second entry in each list of which the world holds one for its manager (the world's
    schedule, whose layer now ends in a week, has a gap before its first handoff and one
    after its end)."""
    team, manager, responder = world.team, world.users["manager"], world.users["responder"]
    ledger = Service.objects.get(slug=f"{MARKER}-ledger")
    Membership.objects.create(team=world.other_team, user=manager, role=Role.VIEWER)
    changes.integration_add(actor=manager, service=ledger, source="grafana", name="ALPHA7 two")
    changes.routing_rule_create(
        actor=manager,
        integration=world.integration,
        matchers=[{"label": "team", "op": "=", "value": "checkout"}],
        service=world.service,
        position=1,
    )
    heartbeats.named_heartbeat_create(
        actor=manager, integration=world.opsgenie, name="alpha7-cron", interval_seconds=600
    )
    actions.incident_create(
        service=ledger, title="ALPHA7 ledger lags", severity="warning", user=manager
    )
    policies.policy_create(
        actor=manager,
        team=team,
        name="ALPHA7 secondary",
        steps=[{"targets": [{"user": responder.username}]}],
    )
    contacts.contact_method_create(user=manager, kind="email", address="two@alpha7.example")
    rules_changes.notification_rule_create(
        user=manager, urgency="low", delay_seconds=0, contact_method_id=world.own_contact_method.pk
    )
    windows.maintenance_create(
        team=team,
        services=[ledger],
        starts_at=world.now + timedelta(days=2),
        ends_at=world.now + timedelta(days=2, hours=1),
        reason="ALPHA7 ledger upgrade",
        created_by=manager,
        now=world.now,
    )
    drills.drill_create(
        team=team,
        name="ALPHA7 ledger failover",
        targets=[drills.TargetSpec(ledger, 600, 3600)],
        user=manager,
    )
    layer = world.schedule.layers.get()
    handoff = datetime.combine(layer.handoff_date, layer.handoff_time)
    spec = oncall_services.LayerSpec(
        name=layer.name,
        participants=(manager, responder),
        unit=layer.rotation_unit,
        every=layer.rotation_every,
        handoff_start=handoff,
        end=handoff + timedelta(days=14),
    )
    oncall_services.schedule_update(schedule=world.schedule, layers=[spec])
    oncall_services.schedule_create(
        team=team, name="ALPHA7 secondary", time_zone="UTC", layers=[spec]
    )
    oncall_services.override_create(
        schedule=world.schedule,
        user=responder,
        start=world.now + timedelta(hours=5),
        end=world.now + timedelta(hours=6),
        created_by=manager,
    )
    invitations.invitation_create(actor=manager, email="second-alpha7@example.com", team=team)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with module_world(django_db_blocker) as built:
        _second_of_each(built)
        yield built


@pytest.fixture(scope="module")
def document() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def documented(document, world) -> dict[str, dict]:
    """The schema's GET operation of each URL name under /api/v1/."""
    found = {}
    for path, operations in document["paths"].items():
        if path.startswith("/api/v1/") and "get" in operations:
            names = re.findall(r"{(\w+)}", path)
            concrete = path.format(**{name: KWARGS[name](world) for name in names})
            found[resolve(concrete).url_name] = operations["get"]
    return found


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def _query(world: World, name: str) -> dict:
    make = QUERIES.get(name) or RANGES.get(name)
    return make(world) if make else {}


def _get(client, url: str, query: dict | None = None):
    response = client.get(url, query)
    assert response.status_code == 200, f"GET {url}: {response.status_code} {response.content}"
    return response.json()


def _follow(client, link: str, path: str, query: dict) -> dict:
    """The page a `next` or `previous` link names, checking that the link keeps the query."""
    parts = urlsplit(link)
    assert parts.path == path, link
    kept = {key: values[0] for key, values in parse_qs(parts.query).items() if key != "page"}
    assert kept == {key: str(value) for key, value in query.items()}, link
    return _get(client, link)


def _check_pages(client, path: str, query: dict, whole: dict) -> None:
    count = whole["count"]
    assert count >= 2, f"GET {path}: {count} entries; add a second one in _second_of_each"
    assert len(whole["results"]) == min(count, PAGE_SIZE)
    assert whole["previous"] is None and (whole["next"] is None) == (count <= PAGE_SIZE)

    query = {**query, "page_size": 1}
    first = _get(client, path, query)
    assert (first["count"], len(first["results"]), first["previous"]) == (count, 1, None)
    second = _follow(client, first["next"], path, query)
    assert _follow(client, second["previous"], path, query) == first
    seen, page = first["results"], first
    while page["next"]:
        page = _follow(client, page["next"], path, query)
        assert (page["count"], len(page["results"])) == (count, 1), path
        assert page["previous"], path
        seen = seen + page["results"]
    assert len(seen) == count
    if count <= PAGE_SIZE:
        assert seen == whole["results"], f"GET {path}: the pages of one differ from the list"


def _check_documented(document: dict, operation: dict | None, path: str) -> None:
    assert operation, f"GET {path}: not in the schema"
    body = operation["responses"]["200"]["content"][JSON]["schema"]
    page = _resolve(document, body)
    assert set(page.get("properties", {})) == PAGE, f"GET {path}: the schema shows no page"
    assert page["properties"]["results"]["type"] == "array"
    parameters = {parameter["name"] for parameter in operation.get("parameters", [])}
    assert {"page", "page_size"} <= parameters, f"GET {path}: page parameters undocumented"


@pytest.mark.parametrize(("route", "name", "names"), api_patterns("get"))
def test_every_list_is_a_page(client, db, world, document, documented, route, name, names):
    client.force_login(world.users["manager"])
    for path in api_paths(world, route, name, names):
        query = _query(world, name)
        body = _get(client, path, query)
        if name in NOT_LISTS:
            assert isinstance(body, dict), f"GET {path}: {NOT_LISTS[name]}"
            continue
        assert not isinstance(body, list), f"GET {path}: a bare list; page it (core.pagination)"
        if "results" not in body:
            continue  # one object
        assert set(body) == PAGE, f"GET {path}: {sorted(body)} is not a page"
        assert resolve(path).func.view_class.pagination_class is Pagination, path
        _check_pages(client, path, query, body)
        _check_documented(document, documented.get(name), path)


def test_what_is_not_a_list_is_still_an_api_url():
    assert set(NOT_LISTS) <= {param.values[1] for param in api_patterns("get")}


def test_the_schema_documents_no_bare_list(document):
    bare = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                schema = response.get("content", {}).get(JSON, {}).get("schema", {})
                if code.startswith("2") and _resolve(document, schema).get("type") == "array":
                    bare.append(f"{method.upper()} {path} {code}")
    assert not bare, "\n".join(bare)


@pytest.mark.parametrize(
    ("asked", "size"),
    [
        ({}, PAGE_SIZE),
        ({"page_size": "1"}, 1),
        ({"page_size": str(MAX_PAGE_SIZE)}, MAX_PAGE_SIZE),
        ({"page_size": str(MAX_PAGE_SIZE + 1)}, MAX_PAGE_SIZE),
        ({"page_size": "0"}, PAGE_SIZE),
        ({"page_size": "many"}, PAGE_SIZE),
    ],
)
def test_a_page_holds_what_was_asked_up_to_the_most(asked, size):
    request = Request(APIRequestFactory().get("/api/v1/services/", asked))
    assert Pagination().get_page_size(request) == size
