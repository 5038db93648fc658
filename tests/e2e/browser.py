"""Helpers of the browser tests: the tab's record of what it saw, logging in through the
form, and passwords the real server can verify."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse 42"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# How long a DOM condition may take: the dashboard polls every 3 s, the worker drains at once.
TIMEOUT_MS = 20_000

# Reports every Content-Security-Policy violation of every document to the test (the init
# script and the binding are injected by the browser itself, so the page's CSP does not
# apply to them).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") + " on " +
    event.documentURI
  );
});
"""


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(f"{message}; the Debian package is `chromium`")


@dataclass
class Browsing:
    """One test's browser tab and what it saw."""

    page: object
    name: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)

    def shot(self, step: str) -> Path:
        """A full-page screenshot named <test>-<step>.png."""
        path = SCREENSHOTS / f"{self.name}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.screenshots.append(path)
        return path

    def non_local_requests(self) -> list[str]:
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in {"data", "blob", "about"}:
                continue
            if parts.hostname not in LOCAL_HOSTS:
                foreign.append(url)
        return foreign

    def assert_clean(self) -> None:
        """No script errors, no CSP violations, and nothing fetched from another host."""
        assert self.requests, "the browser recorded no request at all"
        assert self.console_errors == [], self.console_errors
        assert self.csp_violations == [], self.csp_violations
        assert self.non_local_requests() == []


def set_server_password(user, password: str = PASSWORD) -> None:
    """Give `user` a password the gunicorn process can verify.

    The test process hashes with MD5 for speed (root conftest), which the server, running
    with the production settings, does not accept; PBKDF2 (Django's default) it does.
    """
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    user.password = make_password(password, hasher=PBKDF2PasswordHasher())
    user.save(update_fields=["password"])


def log_in(run: Browsing, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Through the real login form, as a person would: land on it, fill it, submit."""
    from playwright.sync_api import expect

    page = run.page
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    run.shot("00-login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.locator(".nav-user summary")).to_have_text(f"Signed in as {username}")
    run.shot("00-dashboard")


def open_menu(page, group: str) -> None:
    """Open a group of the top bar's navigation (Incidents, On-call, Drills and reports,
    Settings, or the signed-in user's name), as a person clicks it; on a phone-sized
    window, open the Menu first."""
    toggle = page.locator(".nav-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    summary = page.locator(".site-nav details.nav-group > summary", has_text=group)
    if summary.locator("xpath=..").get_attribute("open") is None:
        summary.click()


# --- phones and accessibility ---------------------------------------------------------------

PHONE = {"width": 390, "height": 844}
SEVERE = {"serious", "critical"}


def too_wide(page) -> list[str]:
    """What sticks out sideways past the screen (`tag.class right-edge`, the first 8);
    empty when the page fits its width."""
    return page.evaluate(
        """() => document.documentElement.scrollWidth <= window.innerWidth ? [] :
            [`document ${document.documentElement.scrollWidth}px`].concat(
              [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .map(e => `${e.tagName}.${e.className} ` +
                          `${Math.round(e.getBoundingClientRect().right)}`)
                .slice(0, 8))"""
    )


def _where(node: dict) -> str:
    """The element (its CSS selector) and axe's last line on why it fails."""
    summary = (node.get("failureSummary") or "").strip().splitlines()
    return f"{' '.join(map(str, node['target']))} ({summary[-1].strip() if summary else ''})"


def severe_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the whole page, navigation included."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in SEVERE:
            continue
        nodes = violation["nodes"]
        where = "; ".join(_where(node) for node in nodes[:4])
        more = f" and {len(nodes) - 4} more" if len(nodes) > 4 else ""
        found.append(
            f"{violation['id']} [{violation['impact']}] {violation['help']}: {where}{more}"
        )
    return found
