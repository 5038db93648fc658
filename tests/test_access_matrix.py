"""Access control for EVERY endpoint, generated from the URL configuration.

Every URL pattern is collected from the resolver with the HTTP methods its view accepts, and
requested by each role (anonymous, viewer, responder, manager of team alpha7, an outsider who
manages another team, staff) against one populated world (tests/access_world.py). RULES says
what each role gets per method; a URL with no rule fails the suite, so a new endpoint cannot
slip in without a decision about who may use it.

What a role gets:
  ALLOW   GET answers 200; a write is accepted (2xx/3xx, or 400/409: the permission check
          passed and the body or the state was refused).
  FORBID  403.
  HIDDEN  404: an outsider never learns that another team's object exists.
  REFUSED 400 or 404: a write naming (in its body) a team or service the user cannot see.
  anonymous always gets the login page (HTML) or 401/403 (API), never a 2xx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.views import APIView

from incidents.timeline import api as incidents_api
from incidents.timeline import views as incidents_views
from tests.access_world import BODIES, KWARGS, MARKER, QUERIES, ROLES, World

# --- what is left out, and why ------------------------------------------------------------------

# Checked by their own tests below, not by the role matrix.
EXCLUDED = {
    "healthz": "public by design (load balancers)",
    "readyz": "public by design (load balancers)",
    "login": "the way in",
    "admin-login": "leads to the way in (the throttled sign-in page)",
    "logout": "the way out",
    "alert-webhook": "token in the URL is the credential; see test_it_refuses_a_wrong_*",
    "alert-webhook-bearer": "bearer token is the credential",
    "heartbeat": "token in the URL is the credential",
    "pagerduty-enqueue": "routing_key in the body is the credential",
    "slack-interactions": "Slack's signature is the credential; see test_slack_interactions",
    "v2/enqueue/": "the same view as pagerduty-enqueue, with a trailing slash",
    # Opsgenie's API: `Authorization: GenieKey <integration token>` is the credential
    # (test_it_refuses_a_wrong_genie_key; incidents/tests/intake/test_opsgenie_api.py).
    "opsgenie-alerts": "GenieKey header is the credential",
    "opsgenie-request-status": "GenieKey header is the credential",
    "opsgenie-alert-close": "GenieKey header is the credential",
    "opsgenie-alert-acknowledge": "GenieKey header is the credential",
    "opsgenie-alert-note": "GenieKey header is the credential",
    "opsgenie-heartbeats": "GenieKey header is the credential",
    "opsgenie-heartbeat-ping": "GenieKey header is the credential",
    "ical-schedule": "secret feed URL; see test_it_refuses_a_wrong_ical_token",
    "ical-user": "secret feed URL",
    "prometheus-metrics": "open unless PAGERLINE_METRICS_TOKEN is set; see its own test",
    # Twilio's requests: X-Twilio-Signature is the credential, every one refused without it
    # (incidents/tests/notify/test_twilio_bad_input.py); no session counts.
    "twilio-sms": "signed by Twilio",
    "twilio-callback": "signed by Twilio",
    "twilio-callback-keys": "signed by Twilio",
    "twilio-call": "signed by Twilio",
    "twilio-call-keys": "signed by Twilio",
    "twilio-status": "signed by Twilio",
    "action-link": "the one-use token in the URL is the credential, whoever is signed in; "
    "see test_it_refuses_a_wrong_action_link_token",
    "first-admin": "open only on an empty database, 404 ever after; core/tests/test_first_admin.py",
    "invitation-accept": "the one-use token in the URL is the credential; "
    "oncall/tests/test_invitation_views.py",
    "password_reset": "the way back in for who forgot their password",
    "password_reset_done": "the way back in",
    "password_reset_confirm": "Django's signed token in the URL is the credential",
    "password_reset_complete": "the way back in",
}
EXCLUDED_NAMESPACES = {"admin"}  # Django admin has its own staff checks (tested below)

# --- who gets what ------------------------------------------------------------------------------

ALLOW, FORBID, HIDDEN, REFUSED = "allow", "forbid", "hidden", "refused"

KINDS = {
    # every logged-in user; lists and pages scoped to the user's teams, and their own things
    "any_user": dict(viewer=ALLOW, responder=ALLOW, manager=ALLOW, outsider=ALLOW, staff=ALLOW),
    # an object of team alpha7 that every member reads (or acts on, e.g. subscribing)
    "member": dict(viewer=ALLOW, responder=ALLOW, manager=ALLOW, outsider=HIDDEN, staff=ALLOW),
    "responder": dict(viewer=FORBID, responder=ALLOW, manager=ALLOW, outsider=HIDDEN, staff=ALLOW),
    "manager": dict(viewer=FORBID, responder=FORBID, manager=ALLOW, outsider=HIDDEN, staff=ALLOW),
    # team-less pages for whoever manages some team (the outsider manages team bravo)
    "any_manager": dict(
        viewer=FORBID, responder=FORBID, manager=ALLOW, outsider=ALLOW, staff=ALLOW
    ),
    # creating something in the team named by the body (team alpha7, or one of its services)
    "create_responder": dict(
        viewer=FORBID, responder=ALLOW, manager=ALLOW, outsider=REFUSED, staff=ALLOW
    ),
    "create_manager": dict(
        viewer=FORBID, responder=FORBID, manager=ALLOW, outsider=REFUSED, staff=ALLOW
    ),
    # a document naming team alpha7 (incidents.provisioning.api)
    "provision": dict(viewer=FORBID, responder=FORBID, manager=ALLOW, outsider=FORBID, staff=ALLOW),
    # a personal object of the manager's (an API token): nobody else learns it exists
    "owner": dict(viewer=HIDDEN, responder=HIDDEN, manager=ALLOW, outsider=HIDDEN, staff=HIDDEN),
}

# url name (or route, for an unnamed pattern) -> {method: kind}
RULES: dict[str, dict[str, str]] = {
    # core: the schema, tokens, me
    "api-schema": {"GET": "any_user"},
    "api-docs": {"GET": "any_user"},
    "api-tokens": {"GET": "any_user", "POST": "any_user"},
    "api-token-revoke": {"POST": "owner"},
    "api-me": {"GET": "any_user"},
    # teams: anyone starts one (and manages it); its managers change its members
    "api-teams": {"GET": "any_user", "POST": "any_user"},
    "api-team": {"GET": "member", "PATCH": "manager"},
    "api-team-members": {"GET": "member", "POST": "manager"},
    "api-team-member": {"GET": "member", "PATCH": "manager", "DELETE": "manager"},
    "team-list": {"GET": "any_user"},
    "team-new": {"GET": "any_user", "POST": "any_user"},
    "team-detail": {"GET": "member"},
    "team-settings": {"GET": "manager", "POST": "manager"},
    "team-member-add": {"POST": "manager"},
    "team-member-role": {"POST": "manager"},
    "team-member-remove": {"POST": "manager"},
    # service pages: members list them, managers create and configure them
    "service-list": {"GET": "any_user"},
    "service-new": {"GET": "any_manager", "POST": "create_manager"},
    "service-settings": {"GET": "manager", "POST": "manager"},
    "api-token-list": {"GET": "any_user", "POST": "any_user"},
    "api-token-detail": {"DELETE": "owner"},
    # invitations: managers invite to their teams (the world's invitation is to alpha7)
    "invitation-list": {"GET": "any_manager", "POST": "create_manager"},
    "invitation-resend": {"POST": "manager"},
    "invitation-revoke": {"POST": "manager"},
    "api-invitations": {"GET": "any_manager", "POST": "create_manager"},
    "api-invitation": {"GET": "manager", "DELETE": "manager"},
    "api-invitation-resend": {"POST": "manager"},
    # incidents: pages
    "incident-list": {"GET": "any_user"},
    "incidents-feed": {"GET": "any_user"},
    "incident-new": {"GET": "any_user", "POST": "create_responder"},
    "incident-detail": {"GET": "member"},
    "incident-state": {"GET": "member"},
    "incident-action": {"POST": "responder"},
    "failed-deliveries": {"GET": "any_user"},
    "delivery-retry": {"POST": "manager"},
    "delivery-dismiss": {"POST": "manager"},
    "maintenance-list": {"GET": "any_user", "POST": "create_manager"},
    "maintenance-end": {"POST": "manager"},
    "circuit-breakers": {"GET": "any_manager"},
    "audit-log": {"GET": "any_user"},
    # incidents: API
    "api-incidents": {"GET": "any_user", "POST": "create_responder"},
    "api-incident": {"GET": "member"},
    "api-incident-timeline": {"GET": "member"},
    "api-incident-action": {"POST": "responder"},
    "api-audit": {"GET": "any_user"},
    "api-services": {"GET": "any_user", "POST": "create_manager"},
    "api-service": {"GET": "member", "PATCH": "manager"},
    "api-integrations": {"GET": "any_user", "POST": "create_manager"},
    "api-integration": {"GET": "member", "PATCH": "manager", "DELETE": "manager"},
    "api-integration-rotate": {"POST": "manager"},
    "api-integration-test": {"POST": "manager"},
    "api-integration-deliveries": {"GET": "member"},
    "integration-list": {"GET": "member", "POST": "manager"},
    "integration-detail": {"GET": "member"},
    "integration-rotate": {"POST": "manager"},
    "integration-test": {"POST": "manager"},
    "integration-routing-rule-add": {"POST": "manager"},
    "integration-heartbeat-add": {"POST": "manager"},
    "integration-heartbeat-edit": {"GET": "manager", "POST": "manager"},
    "integration-heartbeat-delete": {"POST": "manager"},
    "integration-routing-rule-delete": {"POST": "manager"},
    "api-routing-rules": {"GET": "member", "POST": "manager"},
    "api-routing-rule": {"DELETE": "manager"},
    "api-heartbeats": {"GET": "any_user", "POST": "create_manager"},
    "api-heartbeat": {"GET": "member", "PATCH": "manager", "DELETE": "manager"},
    "api-maintenance-windows": {"GET": "any_user", "POST": "create_manager"},
    # provisioning: a document of team alpha7; whoever does not manage it is refused, 403
    # naming the team (the same answer whether it exists or not)
    "api-provisioning-plan": {"POST": "provision"},
    "api-provisioning-apply": {"POST": "provision"},
    "api-maintenance-window": {"GET": "member"},
    "api-maintenance-window-end": {"POST": "manager"},
    # escalation policies: members read, managers change
    "escalation-policy-list": {"GET": "any_user"},
    "escalation-policy-new": {"GET": "any_manager", "POST": "create_manager"},
    "escalation-policy-detail": {"GET": "member"},
    "escalation-policy-edit": {"GET": "manager", "POST": "manager"},
    "escalation-policy-delete": {"POST": "manager"},  # in use: refused with a message
    "escalation-policy-services": {"POST": "manager"},
    "api-escalation-policies": {"GET": "any_user", "POST": "create_manager"},
    "api-escalation-policy": {
        "GET": "member",
        "PUT": "manager",
        "PATCH": "manager",
        "DELETE": "manager",  # in use: 409
    },
    # contact methods and time zone: each user's own (the manager's method is the world's)
    "contact-methods": {"GET": "any_user", "POST": "any_user"},
    "contact-method-update": {"POST": "owner"},
    "contact-method-test": {"POST": "owner"},
    "contact-method-verify": {"POST": "owner"},
    "contact-method-send-code": {"POST": "owner"},
    "contact-method-delete": {"POST": "owner"},
    "account-time-zone": {"POST": "any_user"},
    "api-contact-methods": {"GET": "any_user", "POST": "any_user"},
    "api-contact-method": {"GET": "owner", "PATCH": "owner", "DELETE": "owner"},
    "api-contact-method-test": {"POST": "owner"},
    "api-contact-method-verify": {"POST": "owner"},
    "api-contact-method-send-code": {"POST": "owner"},
    # notification rules and the test page: each user's own (the manager's rule is the world's)
    "notification-rules": {"GET": "any_user", "POST": "any_user"},
    "notification-rule-delete": {"POST": "owner"},
    "test-page": {"POST": "any_user"},
    "api-notification-rules": {"GET": "any_user", "POST": "any_user"},
    "api-notification-rule": {"GET": "owner", "PATCH": "owner", "DELETE": "owner"},
    "api-test-page": {"POST": "any_user"},
    # metrics
    "dashboard": {"GET": "any_user"},
    "checklist-dismiss": {"POST": "manager"},
    "service-page": {"GET": "member"},
    "drill-list": {"GET": "any_user"},
    "drill-new": {"GET": "any_manager", "POST": "create_manager"},
    "drill-review": {"GET": "member"},
    "drill-action": {"POST": "responder"},
    "report-index": {"GET": "member"},
    "report-subscribe": {"POST": "member"},
    "report-page": {"GET": "member"},
    "report-csv": {"GET": "member"},
    "api-drills": {"GET": "any_user", "POST": "create_manager"},
    "api-drill": {"GET": "member"},
    "api-drill-review": {"GET": "member"},
    "api-drill-inject": {"POST": "responder"},
    "api-drill-restore": {"POST": "responder"},
    "api-drill-finish": {"POST": "responder"},
    "api-drill-attach": {"POST": "responder"},
    "api-drill-detach": {"POST": "responder"},
    "api-weekly-report": {"GET": "member"},
    "api-metrics-services": {"GET": "member"},
    # oncall
    "schedule-list": {"GET": "any_user"},
    "schedule-detail": {"GET": "member"},
    "schedule-new": {"GET": "any_manager", "POST": "create_manager"},
    "schedule-new-preview": {"POST": "create_manager"},
    "schedule-edit": {"GET": "manager", "POST": "manager"},
    "schedule-edit-preview": {"POST": "manager"},
    "schedule-delete": {"POST": "manager"},
    "schedule-timeline": {"GET": "member"},
    "schedule-override-add": {"POST": "responder"},
    "schedule-override-remove": {"POST": "responder"},  # the override is the responder's own
    "schedule-ical-rotate": {"POST": "manager"},
    "oncall-me": {"GET": "any_user"},
    "oncall-me-profile": {"POST": "any_user"},
    "oncall-me-ical-rotate": {"POST": "any_user"},
    "api-schedule-list": {"GET": "any_user", "POST": "create_manager"},
    "api-schedule-detail": {
        "GET": "member",
        "PUT": "manager",
        "PATCH": "manager",
        "DELETE": "manager",
    },
    "api-schedule-shifts": {"GET": "member"},
    "api-schedule-oncall": {"GET": "member"},
    "api-schedule-gaps": {"GET": "member"},
    "api-override-list": {"GET": "member", "POST": "responder"},
    "api-override-detail": {"GET": "member", "DELETE": "responder"},
}

# --- the URL configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    key: str  # the url name, or the route of an unnamed pattern
    route: str
    callback: object
    methods: tuple[str, ...]
    kwargs: tuple[str, ...]
    api: bool


def _view_class(callback):
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def allowed_methods(callback) -> tuple[str, ...]:
    """The methods a view answers: a class's handlers, or a function view's
    require_http_methods list (found in the decorator's closure); GET and POST otherwise."""
    cls = _view_class(callback)
    if cls is not None:
        return tuple(
            m.upper()
            for m in cls.http_method_names
            if m not in {"head", "options"} and hasattr(cls, m)
        )
    func = callback
    while func is not None:
        code = getattr(func, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = func.__closure__[code.co_freevars.index("request_method_list")]
            return tuple(m for m in cell.cell_contents if m not in {"HEAD", "OPTIONS"})
        func = getattr(func, "__wrapped__", None)
    return ("GET", "POST")


def _walk(resolver, prefix: str = "", namespaces: tuple = (), names: tuple = ()):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        groups = names + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            namespace = (pattern.namespace,) if pattern.namespace else ()
            yield from _walk(pattern, route, namespaces + namespace, groups)
        elif isinstance(pattern, URLPattern):
            yield route, pattern, namespaces, groups


def collect_endpoints() -> tuple[list[Endpoint], list[str]]:
    endpoints, excluded = [], []
    for route, pattern, namespaces, kwargs in _walk(get_resolver()):
        key = pattern.name or route
        if set(namespaces) & EXCLUDED_NAMESPACES or key in EXCLUDED:
            excluded.append(key)
            continue
        cls = _view_class(pattern.callback)
        endpoints.append(
            Endpoint(
                key=key,
                route=route,
                callback=pattern.callback,
                methods=allowed_methods(pattern.callback),
                kwargs=kwargs,
                api=bool(cls and issubclass(cls, APIView)),
            )
        )
    return endpoints, excluded


ENDPOINTS, EXCLUDED_FOUND = collect_endpoints()

# --- the objects the URLs take (KWARGS), their bodies (BODIES, QUERIES): tests/access_world.py -

# URLs with an <action> are requested once per action they know.
ACTIONS = {
    "incident-action": sorted(incidents_views.ACTIONS),
    "api-incident-action": sorted(incidents_api.ACTIONS),
    "drill-action": ["attach", "detach", "finish", "inject", "restore"],
}


# --- the cases ----------------------------------------------------------------------------------


def _cases():
    for endpoint in ENDPOINTS:
        actions = ACTIONS.get(endpoint.key, [None]) if "action" in endpoint.kwargs else [None]
        for action in actions:
            for method in endpoint.methods:
                for role in ROLES:
                    label = endpoint.key + (f"/{action}" if action else "")
                    yield pytest.param(
                        endpoint, action, method, role, id=f"{label}:{method}:{role}"
                    )


def _path(world: World, endpoint: Endpoint, action: str | None) -> str:
    values = {}
    for name in endpoint.kwargs:
        if name == "action":
            if action is None:
                pytest.fail(
                    f"endpoint {endpoint.key} {endpoint.route} takes an <action>: list its "
                    "actions in ACTIONS in tests/test_access_matrix.py"
                )
            values[name] = action
        elif name in KWARGS:
            values[name] = KWARGS[name](world)
        else:
            pytest.fail(
                f"endpoint {endpoint.key} {endpoint.route} takes <{name}>, which "
                "tests/test_access_matrix.py cannot fill: map it to an object in KWARGS"
            )
    target = endpoint.key if endpoint.key != endpoint.route else endpoint.callback
    return reverse(target, kwargs=values)


def _send(client, world: World, endpoint: Endpoint, action, method: str, path: str):
    make_body = BODIES.get((endpoint.key, action or method))
    body = make_body(world) if make_body else {}
    if method == "GET":
        query = QUERIES[endpoint.key](world) if endpoint.key in QUERIES else {}
        return client.get(path, query)
    if endpoint.api:
        return client.generic(method, path, json.dumps(body), content_type="application/json")
    if method == "POST":
        return client.post(path, body)
    return client.generic(method, path)


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        resolve_url(settings.LOGIN_URL)
    )


def test_the_matrix_covers_every_endpoint():
    missing = [
        f"new endpoint {e.key} {e.route} has no access rule in tests/test_access_matrix.py"
        for e in ENDPOINTS
        if e.key not in RULES
    ]
    unruled = [
        f"endpoint {e.key} {e.route} answers {method} but RULES has no entry for it"
        for e in ENDPOINTS
        if e.key in RULES
        for method in e.methods
        if method not in RULES[e.key]
    ]
    stale = sorted(set(RULES) - {e.key for e in ENDPOINTS})
    assert not missing + unruled, "\n".join(missing + unruled)
    assert not stale, f"RULES names endpoints that no longer exist: {stale}"
    assert set(EXCLUDED) <= set(EXCLUDED_FOUND), "EXCLUDED names endpoints that no longer exist"


@pytest.mark.parametrize(("endpoint", "action", "method", "role"), list(_cases()))
def test_access(world, db, client, endpoint, action, method, role):
    rules = RULES.get(endpoint.key)
    if rules is None:
        pytest.fail(
            f"new endpoint {endpoint.key} {endpoint.route} has no access rule in "
            "tests/test_access_matrix.py"
        )
    if method not in rules:
        pytest.fail(f"endpoint {endpoint.key} {endpoint.route}: no rule for {method}")
    path = _path(world, endpoint, action)
    if role != "anonymous":
        client.force_login(world.users[role])
    response = _send(client, world, endpoint, action, method, path)
    status = response.status_code
    where = f"{method} {path} as {role}: {status}"

    if role == "anonymous":
        if endpoint.api:
            assert status in {401, 403}, where
        else:
            assert _is_login_redirect(response), where
        return

    expected = KINDS[rules[method]][role]
    if expected == ALLOW:
        if method == "GET":
            assert status == 200, where
        else:
            assert status in {200, 201, 202, 204, 302, 303, 400, 409}, where
            assert not _is_login_redirect(response), where
    elif expected == FORBID:
        assert status == 403, where
    elif expected == HIDDEN:
        assert status == 404, where
    else:
        assert status in {400, 404}, where
    if role == "outsider" and method == "GET" and status == 200:
        assert MARKER not in response.content.decode().lower(), f"{where} shows team {MARKER}"


# --- endpoints outside the matrix ---------------------------------------------------------------


def test_only_staff_reach_the_admin(world, db, client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(world.users["manager"])
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(world.users["staff"])
    assert client.get("/admin/").status_code == 200


def _alert(token_path: str, client, **extra):
    body = {"version": "4", "status": "firing", "alerts": []}
    return client.post(token_path, json.dumps(body), content_type="application/json", **extra)


def test_it_refuses_a_wrong_webhook_token(world, db, client):
    wrong = "x" * 43
    assert _alert(f"/hooks/alertmanager/{world.integration_token}", client).status_code != 404
    assert _alert(f"/hooks/alertmanager/{wrong}", client).status_code == 404
    assert _alert(f"/hooks/grafana/{world.integration_token}", client).status_code == 404
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {wrong}"}
    assert _alert("/hooks/alertmanager", client, **bearer).status_code == 404
    assert _alert("/hooks/alertmanager", client).status_code in {400, 401, 404}
    assert client.post(f"/hooks/heartbeat/{world.integration_token}").status_code == 200
    assert client.post(f"/hooks/heartbeat/{wrong}").status_code == 404
    event = {
        "routing_key": wrong,
        "event_action": "trigger",
        "payload": {"summary": "down", "source": "db", "severity": "critical"},
    }
    for path in ("/v2/enqueue", "/v2/enqueue/"):
        response = client.post(path, json.dumps(event), content_type="application/json")
        assert response.status_code in {400, 404}, response.content


def test_it_refuses_a_wrong_genie_key(world, db, client):
    """Every Opsgenie path refuses a session without the key, and a wrong key."""
    world_token = {"HTTP_AUTHORIZATION": f"GenieKey {world.integration_token}"}
    paths = [
        ("post", "/v2/alerts"),
        ("post", "/v2/alerts/a/close"),
        ("post", "/v2/alerts/a/acknowledge"),
        ("post", "/v2/alerts/a/notes"),
        ("get", "/v2/alerts/requests/7c4a1e2b-0d1f-4b6a-9a57-2f3c1d2e4b5a"),
        ("post", "/v2/heartbeats"),
        ("get", "/v2/heartbeats/a/ping"),
    ]
    client.force_login(world.users["manager"])
    for method, path in paths:
        call = getattr(client, method)
        assert call(path).status_code == 401, path  # a session is not a key
        wrong = call(path, HTTP_AUTHORIZATION="GenieKey " + "x" * 43)
        assert wrong.status_code == 401, path
        # The world's integration is an Alertmanager one: its token is not an Opsgenie key.
        assert call(path, **world_token).status_code == 403, path


def test_it_refuses_a_wrong_ical_token(world, db, client):
    from oncall import services as oncall_services

    schedule_token = oncall_services.schedule_ical_rotate(schedule=world.schedule)
    user_token = oncall_services.user_ical_rotate(user=world.users["responder"])
    assert client.get(reverse("ical-schedule", args=[schedule_token])).status_code == 200
    assert client.get(reverse("ical-user", args=[user_token])).status_code == 200
    wrong = "y" * 43
    assert client.get(reverse("ical-schedule", args=[wrong])).status_code == 404
    assert client.get(reverse("ical-user", args=[wrong])).status_code == 404
    assert client.get(reverse("ical-schedule", args=[user_token])).status_code == 404


def test_prometheus_metrics_need_the_token_once_one_is_set(world, db, client, settings):
    settings.PAGERLINE_METRICS_TOKEN = "s" * 32
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 401
    client.force_login(world.users["staff"])  # a session is not the scrape token
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {'s' * 32}")
    assert response.status_code == 200


def test_it_refuses_a_wrong_action_link_token(world, db, client):
    """An acknowledge link acts for its recipient without a login; a wrong token is 404 to
    anyone, signed in or not, and changes nothing."""
    from incidents.notify import links

    url = links.link_mint(
        incident=world.incident,
        user_id=world.users["responder"].pk,
        action="acknowledge",
        channel="email",
        now=world.now,
    )
    path = url.removeprefix(settings.PAGERLINE_BASE_URL)
    assert client.get(path).status_code == 200
    for who in (None, "staff", "manager"):
        if who:
            client.force_login(world.users[who])
        assert client.get("/a/" + "z" * 43 + "/").status_code == 404
        assert client.post("/a/" + "z" * 43 + "/").status_code == 404
        assert client.post(path[:-5] + "abcd/").status_code == 404
    world.incident.refresh_from_db()
    assert world.incident.status == "triggered"
