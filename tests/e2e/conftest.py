"""A real Chromium (Debian's package, driven by Playwright) for the browser tests, with every
page's console errors, CSP violations and requested URLs recorded, and full-page screenshots
under test-artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest

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
