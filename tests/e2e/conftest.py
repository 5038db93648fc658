"""A real Chromium (Debian's package, driven by Playwright) for the browser tests, with every
page's console errors, CSP violations and requested URLs recorded, and full-page screenshots
under test-artifacts/screenshots/; and the drill and weekly report that more than one module
visits."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.e2e.browser import (
    CHROMIUM,
    CSP_LISTENER,
    SCREENSHOTS,
    TIMEOUT_MS,
    Browsing,
    require_chromium,
)


def _safe_name(nodeid_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid_name)


@pytest.fixture
def browsing(request, make_web, monkeypatch):
    """A fresh browser context and tab for the test.

    Depending on `make_web` makes the browser close before the servers stop and before the
    test database is flushed. Playwright's sync API runs its asyncio loop in a greenlet of
    this thread, which Django's async-safety check mistakes for async code; our ORM calls
    here are ordinary synchronous ones, so the check is switched off while the browser runs.
    While that loop counts as running, Django also keeps this thread's database connections
    apart from its usual ones, so they are closed before the loop goes away (left open, they
    would keep PostgreSQL from dropping the test database).
    """
    from django.db import connections

    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        page = context.new_page()
        run = Browsing(page=page, name=_safe_name(request.node.name))
        context.on("request", lambda req: run.requests.append(req.url))
        page.on(
            "console",
            lambda msg: (
                run.console_errors.append(f"{msg.text} ({msg.location.get('url')})")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: run.console_errors.append(f"uncaught: {error}"))
        page.expose_function("__reportCspViolation", lambda text: run.csp_violations.append(text))
        page.add_init_script(CSP_LISTENER)
        try:
            yield run
        finally:
            context.close()
            browser.close()
            connections.close_all()


@pytest.fixture
def drill_and_report(team, service, users):
    """A finished drill on checkout, and the team's report of last week (two incidents on
    checkout: MTTR 600 s and 1800 s, both acknowledged by the responder)."""
    from incidents.tests.factories import make_incident
    from metrics import drills, reports
    from metrics.weeks import week_bounds

    now = timezone.now()
    responder = users["responder"]

    def incident(title: str, *, detected: datetime, acked: int, resolved: int):
        return make_incident(
            service,
            title=title,
            detected=detected,
            acked=detected + timedelta(seconds=acked),
            acked_by=responder,
            resolved=detected + timedelta(seconds=resolved),
            resolved_by=responder,
            actor_label="e2e",
        )

    drill = drills.drill_create(
        team=team,
        name="Primary DB failover",
        targets=[drills.TargetSpec(service, max_mttd_seconds=120, max_mttr_seconds=1800)],
        user=users["manager"],
    )
    injected = now - timedelta(hours=2)
    drills.drill_inject(drill_id=drill.pk, service_id=service.pk, at=injected)
    drilled = incident(
        "Checkout database unreachable",
        detected=injected + timedelta(seconds=90),
        acked=60,
        resolved=900,
    )
    drills.drill_attach(drill_id=drill.pk, incident_id=drilled.pk, user=responder)
    drills.drill_restore(drill_id=drill.pk, service_id=service.pk, at=injected + timedelta(hours=1))
    drills.drill_finish(drill_id=drill.pk, at=injected + timedelta(hours=1, minutes=5))

    week = reports.previous_week(team, now=now)
    monday, _ = week_bounds(week, team.time_zone)
    incident("Checkout 500s", detected=monday + timedelta(days=1, hours=9), acked=300, resolved=600)
    incident(
        "Checkout slow", detected=monday + timedelta(days=3, hours=14), acked=120, resolved=1800
    )
    report = reports.report_build(team=team, week=week, now=now).report
    return {"drill": drill, "week": week, "report": report}
