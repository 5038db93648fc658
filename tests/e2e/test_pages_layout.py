"""Every HTML page of ours, on a laptop (1400 px) and on a phone (390 px), with realistic data:
no page is wider than the screen, and axe-core finds no serious or critical accessibility
violation. Each page is saved as a full-page screenshot under test-artifacts/screenshots/
(pages-<width>-<url name>.png).

The pages are found by walking the URL resolver, not listed by hand: every route that is not
the API, a webhook or the Django admin must have an entry in ROUTES below, saying how to fill
its arguments from the data set (a page), or why it is not visited (POST only, not HTML).
A new page without an entry fails test_every_route_has_an_entry, so it is visited here as soon
as it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from tests.e2e.browser import (
    SCREENSHOTS,
    log_in,
    set_server_password,
    severe_violations,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

WIDTHS = {"laptop": (1400, 900), "phone": (390, 844)}
# Routes of the API, the webhooks and the admin: other tests cover them, they are no pages.
NOT_OURS = ("api/", "hooks/", "v2/", "admin/", "bench/")
# What must be on the first screen, without scrolling, and on an incident's page above its
# status: the responder woken at night acts first.
FIRST_SCREEN = {
    "incident-detail-triggered": ("Acknowledge", "Resolve"),
    "incident-detail-acknowledged": ("Resolve",),
    "action-link": ("Acknowledge #",),
}


@dataclass(frozen=True)
class Page:
    """An HTML page: `variants` returns, for the data set, a {suffix: kwargs} dict of the
    versions to visit (several when states look different, e.g. open and resolved)."""

    variants: Callable[[dict], dict[str, dict]] = lambda world: {"": {}}


@dataclass(frozen=True)
class PostOnly:
    """A form's target: a GET must answer 405 (checked), so there is nothing to look at."""

    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NotHtml:
    """JSON, CSV, iCalendar, Prometheus text, a health check: no page to lay out."""

    why: str


@dataclass(frozen=True)
class Elsewhere:
    """A page that cannot be seen in this data set (e.g. only on an empty database): the
    browser test named in `where` checks its layout and axe instead."""

    where: str


def _one(**kwargs: Callable[[dict], object]) -> Callable[[dict], dict[str, dict]]:
    return lambda world: {"": {key: make(world) for key, make in kwargs.items()}}


def _incidents(world: dict) -> dict[str, dict]:
    return {f"-{state}": {"incident_id": world[state].pk} for state in INCIDENT_STATES}


INCIDENT_STATES = ("triggered", "acknowledged", "resolved")

ROUTES: dict[str, Page | PostOnly | NotHtml | Elsewhere] = {
    # metrics
    "dashboard": Page(),
    "service-page": Page(_one(slug=lambda w: w["service"].slug)),
    "drill-list": Page(),
    "drill-new": Page(),
    "drill-review": Page(_one(drill_id=lambda w: w["drill"].pk)),
    "drill-action": PostOnly({"drill_id": 1, "action": "finish"}),
    "report-index": Page(_one(team=lambda w: w["team"].slug)),
    "report-subscribe": PostOnly({"team": "payments"}),
    "report-page": Page(_one(team=lambda w: w["team"].slug, week=lambda w: w["week"])),
    "report-csv": NotHtml("CSV download"),
    "checklist-dismiss": PostOnly({"team": "payments"}),
    "prometheus-metrics": NotHtml("Prometheus exposition"),
    # incidents
    "incident-list": Page(),
    "incident-new": Page(),
    "incident-detail": Page(_incidents),
    "incident-state": NotHtml("JSON the incident page polls"),
    "incident-action": PostOnly({"incident_id": 1, "action": "acknowledge"}),
    "incidents-feed": NotHtml("JSON the dashboard polls"),
    "failed-deliveries": Page(),
    "delivery-retry": PostOnly({"delivery_id": 1}),
    "delivery-dismiss": PostOnly({"delivery_id": 1}),
    "maintenance-list": Page(),
    "maintenance-end": PostOnly({"window_id": 1}),
    "circuit-breakers": Page(),
    "audit-log": Page(),
    "escalation-policy-list": Page(),
    "escalation-policy-new": Page(),
    "escalation-policy-detail": Page(_one(policy_id=lambda w: w["policy"].pk)),
    "escalation-policy-edit": Page(_one(policy_id=lambda w: w["policy"].pk)),
    "escalation-policy-delete": PostOnly({"policy_id": 1}),
    "escalation-policy-services": PostOnly({"policy_id": 1}),
    "contact-methods": Page(),
    "contact-method-update": PostOnly({"method_id": 1}),
    "contact-method-test": PostOnly({"method_id": 1}),
    "contact-method-verify": PostOnly({"method_id": 1}),
    "contact-method-send-code": PostOnly({"method_id": 1}),
    "contact-method-delete": PostOnly({"method_id": 1}),
    "account-time-zone": PostOnly(),
    "notification-rules": Page(),
    "notification-rule-delete": PostOnly({"notification_rule_id": 1}),
    "test-page": PostOnly(),
    "action-link": Page(_one(token=lambda w: w["link_token"])),
    "service-list": Page(),
    "service-new": Page(),
    "service-settings": Page(_one(slug=lambda w: w["service"].slug)),
    "integration-list": Page(_one(slug=lambda w: w["service"].slug)),
    "integration-detail": Page(
        lambda w: {
            "": {"slug": w["service"].slug, "integration_id": w["integration"].pk},
            # An Opsgenie integration's page has the named-heartbeats section and form.
            "-opsgenie": {"slug": w["service"].slug, "integration_id": w["opsgenie"].pk},
        }
    ),
    "integration-rotate": PostOnly({"slug": "checkout", "integration_id": 1}),
    "integration-test": PostOnly({"slug": "checkout", "integration_id": 1}),
    "integration-routing-rule-add": PostOnly({"slug": "checkout", "integration_id": 1}),
    "integration-heartbeat-add": PostOnly({"slug": "checkout", "integration_id": 1}),
    "integration-heartbeat-edit": Page(
        _one(slug=lambda w: w["service"].slug, heartbeat_id=lambda w: w["heartbeat"].pk)
    ),
    "integration-heartbeat-delete": PostOnly({"slug": "checkout", "heartbeat_id": 1}),
    "integration-routing-rule-delete": PostOnly(
        {"slug": "checkout", "integration_id": 1, "rule_id": 1}
    ),
    # oncall
    "schedule-list": Page(),
    "schedule-detail": Page(_one(schedule_id=lambda w: w["schedule"].pk)),
    "schedule-timeline": NotHtml("JSON the schedule page draws"),
    "schedule-new": Page(),
    "schedule-edit": Page(_one(schedule_id=lambda w: w["schedule"].pk)),
    "schedule-new-preview": NotHtml("JSON the schedule editor draws (POST)"),
    "schedule-edit-preview": NotHtml("JSON the schedule editor draws (POST)"),
    "schedule-delete": PostOnly({"schedule_id": 1}),
    "team-list": Page(),
    "team-new": Page(),
    "team-detail": Page(_one(team=lambda w: w["team"].slug)),
    "team-settings": Page(_one(team=lambda w: w["team"].slug)),
    "team-member-add": PostOnly({"team": "payments"}),
    "team-member-role": PostOnly({"team": "payments"}),
    "team-member-remove": PostOnly({"team": "payments"}),
    "invitation-list": Page(),
    "invitation-resend": PostOnly({"invitation_id": 1}),
    "invitation-revoke": PostOnly({"invitation_id": 1}),
    "invitation-accept": Page(_one(token=lambda w: w["invitation_token"])),
    "schedule-override-add": PostOnly({"schedule_id": 1}),
    "schedule-override-remove": PostOnly({"schedule_id": 1, "override_id": 1}),
    "schedule-ical-rotate": PostOnly({"schedule_id": 1}),
    "oncall-me": Page(),
    "oncall-me-profile": PostOnly(),
    "oncall-me-ical-rotate": PostOnly(),
    "ical-schedule": NotHtml("iCalendar feed"),
    "ical-user": NotHtml("iCalendar feed"),
    # core and accounts
    "api-tokens": Page(),
    "api-token-revoke": PostOnly({"token_id": 1}),
    "login": Page(),
    "first-admin": Elsewhere("tests/e2e/test_browser_first_run.py, on an empty database"),
    "password_reset": Page(),
    "password_reset_done": Page(),
    "password_reset_confirm": Page(_one(uidb64=lambda w: "MQ", token=lambda w: "set-password")),
    "password_reset_complete": Page(),
    "logout": PostOnly(),
    "healthz": NotHtml("health check"),
    "readyz": NotHtml("health check"),
}


def our_routes() -> dict[str, str]:
    """{url name: route} of every route but the API's, the webhooks' and the admin's."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: dict[str, str] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^")
            if route.startswith(NOT_OURS):
                continue
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found[pattern.name or f"<unnamed {route}>"] = route

    walk(get_resolver().url_patterns, "")
    return found


def test_every_route_has_an_entry():
    routes = our_routes()
    missing = sorted(set(routes) - set(ROUTES))
    assert not missing, (
        "routes with no entry in ROUTES of tests/e2e/test_pages_layout.py (say how to fill "
        "their arguments, or why they are not visited): "
        + ", ".join(f"{name} ({routes[name]})" for name in missing)
    )
    gone = sorted(set(ROUTES) - set(routes))
    assert not gone, f"entries in ROUTES for routes that no longer exist: {gone}"


# --- the data set --------------------------------------------------------------------------


@pytest.fixture
def world(team, service, users, integration, drill_and_report):
    """What a team that has used Pagerline for a while has: two services, incidents in every
    state with notes, a two-layer schedule with an override, an escalation policy, contact
    methods and rules, a maintenance window, a failed delivery, an API token, a finished
    drill and last week's report (drill_and_report)."""
    from core.services import api_token_create
    from incidents.maintenance.windows import maintenance_create
    from incidents.models import DeliveryStatus
    from incidents.notify import links
    from incidents.notify.rules_changes import notification_rule_create
    from incidents.tests.factories import (
        make_contact_method,
        make_delivery,
        make_incident,
        make_integration,
        make_named_heartbeat,
        make_policy,
        make_service,
    )
    from incidents.timeline import actions
    from oncall.tests.factories import layer, make_invitation, make_override, make_schedule

    now = timezone.now()
    manager, responder = users["manager"], users["responder"]
    search = make_service(team, "search", "Search and recommendations (EU)")
    long_title = "p99 latency of POST /api/v1/payments/authorize above 2 s in eu-west-1 for 10 min"
    triggered = make_incident(service, detected=now - timedelta(minutes=12), title=long_title)
    actions.incident_add_note(
        incident=triggered,
        user=manager,
        text="Seen from the load balancer:\n\n```\n"
        + "upstream_response_time=2.481 status=200 path=/api/v1/payments/authorize?" * 3
        + "\n```\n\nA long unbroken token: "
        + "x" * 120,
    )
    acknowledged = make_incident(
        search,
        detected=now - timedelta(minutes=40),
        acked=now - timedelta(minutes=35),
        acked_by=responder,
        title="Search index lag above 5 minutes",
    )
    resolved = make_incident(
        service,
        detected=now - timedelta(hours=5),
        acked=now - timedelta(hours=4, minutes=55),
        acked_by=responder,
        resolved=now - timedelta(hours=4),
        resolved_by=responder,
        title="Checkout 502s from the payment provider",
    )
    local_now = now.astimezone(timezone.get_fixed_timezone(0)).replace(tzinfo=None)
    handoff = (local_now - timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    schedule = make_schedule(
        team,
        [
            layer("Weekly primary", [responder, manager], unit="weeks", handoff_start=handoff),
            layer(
                "Business hours backup",
                [manager],
                handoff_start=handoff,
                restrictions=[((0, 1, 2, 3, 4), (9, 0), (17, 0))],
            ),
        ],
    )
    make_override(schedule, manager, start=now + timedelta(hours=2), end=now + timedelta(hours=6))
    policy = make_policy(
        team,
        (0, [("schedule", schedule.pk)]),
        (600, [manager]),
        repeat=1,
        fallback=manager,
        name="Checkout escalation",
    )
    email = make_contact_method(manager)
    make_contact_method(manager, address="manager-pager@example.com", verified=False)
    notification_rule_create(
        user=manager, urgency="high", delay_seconds=0, contact_method_id=email.pk
    )
    notification_rule_create(
        user=manager, urgency="high", delay_seconds=300, contact_method_id=email.pk
    )
    maintenance_create(
        team=team,
        services=[search],
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=2),
        reason="Reindexing the product catalogue",
        created_by=manager,
    )
    delivery = make_delivery(
        integration[0],
        received_at=now - timedelta(minutes=30),
        status=DeliveryStatus.FAILED,
        body='{"receiver": "pagerline", "alerts": [' + '{"labels": {"a": "b"}}, ' * 40 + "]}",
    )
    delivery.error = "alerts[0].startsAt: not a timestamp: " + "0" * 80
    delivery.save(update_fields=["error"])
    api_token_create(user=manager, name="Terraform")
    opsgenie, _ = make_integration(service, source="opsgenie", name="Opsgenie senders")
    heartbeat = make_named_heartbeat(opsgenie, "nightly-backup-of-the-product-catalogue")
    heartbeat.description = "The catalogue's nightly pg_dump to object storage: " + "y" * 90
    heartbeat.save(update_fields=["description"])
    _, invitation_token = make_invitation(manager, "newcomer@example.com", team=team)
    url = links.link_mint(
        incident=triggered, user_id=responder.pk, action="acknowledge", channel="email", now=now
    )
    return {
        "team": team,
        "service": service,
        "triggered": triggered,
        "acknowledged": acknowledged,
        "resolved": resolved,
        "schedule": schedule,
        "policy": policy,
        "drill": drill_and_report["drill"],
        "week": drill_and_report["week"],
        "integration": integration[0],
        "opsgenie": opsgenie,
        "heartbeat": heartbeat,
        "invitation_token": invitation_token,
        "link_token": urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1],
    }


# --- the visit -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_phone_and_passes_axe(browsing, make_web, users, world):
    from django.urls import reverse

    set_server_password(users["manager"])
    web = make_web()
    page = browsing.page
    log_in(browsing, web.url, "manager")

    problems: list[str] = []
    visits = []
    for name, entry in sorted(ROUTES.items()):
        if isinstance(entry, PostOnly):
            response = page.request.get(f"{web.url}{reverse(name, kwargs=entry.kwargs)}")
            if response.status != 405:
                problems.append(f"{name}: marked POST only, but GET answers {response.status}")
        elif isinstance(entry, Page):
            for suffix, kwargs in entry.variants(world).items():
                visits.append((f"{name}{suffix}", reverse(name, kwargs=kwargs)))
    assert visits, "no page to visit"

    for size, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        for label, path in visits:
            response = page.goto(f"{web.url}{path}")
            if response is None or response.status != 200:
                problems.append(f"{label}: {path} answered {response and response.status}")
                continue
            page.wait_for_load_state("networkidle")
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                problems.append(f"{label} @ {size}: page is {scroll_width} px wide on {width} px")
            for name in FIRST_SCREEN.get(label, ()):
                box = page.get_by_role("button", name=name).bounding_box()
                status = page.locator("#incident [data-role=status]")
                above = status.bounding_box()["y"] if status.count() else height
                if box is None or box["y"] + box["height"] > min(height, above):
                    problems.append(f"{label} @ {size}: {name!r} is not first on the screen")
            page.screenshot(path=str(SCREENSHOTS / f"pages-{width}-{label}.png"), full_page=True)
            problems += [f"{label} @ {size}: {text}" for text in severe_violations(page)]

    assert not problems, "\n".join(problems)
    browsing.assert_clean()


# --- the navigation ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_navigation_has_seven_entries_and_works_by_keyboard_and_on_a_phone(
    browsing, make_web, users
):
    from playwright.sync_api import expect

    set_server_password(users["manager"])
    web = make_web()
    page = browsing.page
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(browsing, web.url, "manager")
    entries = page.locator(".site-nav .nav-entries > li")
    assert entries.count() <= 7, entries.all_inner_texts()

    # By keyboard: Tab to a group, Enter opens it, its links follow in the tab order,
    # Escape closes it and gives the focus back.
    oncall = page.locator("details.nav-group", has_text="On-call")
    schedules = oncall.get_by_role("link", name="Schedules")
    expect(schedules).to_be_hidden()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "On-call":
            break
    else:
        raise AssertionError("the On-call menu cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(schedules).to_be_visible()
    browsing.shot("nav-laptop-oncall-open")
    page.keyboard.press("Escape")
    expect(schedules).to_be_hidden()
    assert page.evaluate("document.activeElement.textContent.trim()") == "On-call"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{web.url}/schedules/")
    expect(page.locator("details.nav-group.current > summary")).to_have_text("On-call")
    expect(oncall.locator("a[aria-current=page]")).to_have_text("Schedules")

    # One group open at a time; a click elsewhere closes it.
    page.locator("summary", has_text="Settings").click()
    page.locator("summary", has_text="Incidents").click()
    expect(page.locator("details.nav-group[open]")).to_have_count(1)
    page.locator("main h1").click()
    expect(page.locator("details.nav-group[open]")).to_have_count(0)

    # On a tablet or a phone the bar is one line with a Menu button; it opens by touch.
    for width in (800, 390):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(f"{web.url}/")
        header = page.locator("header.topbar").bounding_box()
        assert header["height"] <= 64, f"the top bar is {header['height']} px high at {width} px"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    expect(page.get_by_role("link", name="Dashboard", exact=True)).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.locator("summary", has_text="Incidents").click()
    expect(page.get_by_role("link", name="All incidents")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    browsing.shot("nav-phone-menu-open")
    page.get_by_role("link", name="All incidents").click()
    expect(page).to_have_url(f"{web.url}/incidents/")
    expect(page.get_by_role("link", name="All incidents")).to_be_hidden()

    # The user menu: who is signed in, and log out.
    menu = page.get_by_role("button", name="Menu")
    menu.click()
    page.locator("summary", has_text="manager").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Menu")).to_have_count(0)
    browsing.assert_clean()
