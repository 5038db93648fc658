"""Slack's Web API through slack_sdk's WebClient (SLACK_BOT_TOKEN, SLACK_API_BASE_URL), and
answers to a button press through its response_url.

Slack answers most failures with HTTP 200 and `{"ok": false, "error": "..."}`. A bad token,
an unknown user or channel, a message that is gone will fail the same way again: permanent.
Rate limits (429 with Retry-After) and Slack's own trouble (5xx, no answer) pass: retried.
slack_sdk's own retries are off: the caller's retries decide (notification rows, tasks),
so a worker never sleeps inside a call.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
# A reply to a button press is sent while Slack waits for our answer (3 s in all).
RESPOND_TIMEOUT_SECONDS = 2
# Errors that go away on their own (Slack's documented transient errors).
_PASSING_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "service_unavailable", "fatal_error", "internal_error"}
)
# Slack's rate limits say how long to wait; without a Retry-After header, this long.
DEFAULT_RETRY_AFTER = 30
# Where Slack's response_url points (hooks.slack.com; GovSlack's for government workspaces).
_RESPONSE_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})


class SlackError(Exception):
    """A call failed. `permanent` ones fail the same way again; `retry_after` (seconds)
    is set when Slack said how long to wait; `error` is Slack's error code."""

    def __init__(
        self, message: str, *, permanent: bool, error: str = "", retry_after: int | None = None
    ):
        super().__init__(message)
        self.permanent = permanent
        self.error = error
        self.retry_after = retry_after


def configured() -> bool:
    return bool(settings.SLACK_BOT_TOKEN)


def _client() -> WebClient:
    return WebClient(
        token=settings.SLACK_BOT_TOKEN,
        base_url=settings.SLACK_API_BASE_URL,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[],
    )


def call(method: str, **arguments) -> dict:
    """Call a Web API method (chat.postMessage, chat.update, ...); its answer's body."""
    if not configured():
        raise SlackError("Slack is not configured (set SLACK_BOT_TOKEN)", permanent=True)
    try:
        response = _client().api_call(method, json=arguments)
    except SlackApiError as exc:
        raise _failure(method, exc) from exc
    except Exception as exc:  # no answer: refused, timed out, not JSON
        raise SlackError(f"{method}: {type(exc).__name__}: {exc}", permanent=False) from exc
    return dict(response.data)


def _failure(method: str, exc: SlackApiError) -> SlackError:
    response = exc.response
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error") or "")
    status = response.status_code
    if status == 429 or error in {"ratelimited", "rate_limited"}:
        retry_after = _seconds(response.headers.get("Retry-After")) or DEFAULT_RETRY_AFTER
        return SlackError(
            f"{method}: ratelimited (Slack asks to retry after {retry_after} s)",
            permanent=False,
            error=error or "ratelimited",
            retry_after=retry_after,
        )
    passing = status >= 500 or error in _PASSING_ERRORS
    detail = error or f"HTTP {status}"
    return SlackError(f"{method}: {detail}", permanent=not passing, error=error)


def _seconds(value) -> int | None:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return None


def response_url_trusted(url: str) -> bool:
    """Replies go only to Slack's response_url host (or the configured API's host, e.g. a
    local stand-in in tests): a signed payload names it, and this keeps it that way."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname in _RESPONSE_HOSTS:
        return True
    api = urlsplit(settings.SLACK_API_BASE_URL)
    return (parts.scheme, parts.netloc) == (api.scheme, api.netloc)


def respond(response_url: str, body: dict) -> bool:
    """Answer a button press (an ephemeral note, or the message replaced); False when it
    could not be sent (logged: the press itself was handled either way)."""
    if not response_url_trusted(response_url):
        log.warning("not answering a Slack press: response_url is not Slack's")
        return False
    try:
        response = WebhookClient(response_url, timeout=RESPOND_TIMEOUT_SECONDS).send_dict(body)
    except Exception as exc:
        log.warning("could not answer a Slack press: %s: %s", type(exc).__name__, exc)
        return False
    if response.status_code != 200:
        log.warning("Slack refused our answer to a press: HTTP %s", response.status_code)
        return False
    return True
