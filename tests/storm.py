"""A storm of Alertmanager webhooks for the tests that kill or restart something under load
(tests/test_zero_loss.py, test_failover_postgres.py, test_failover_redis_sentinel.py,
test_multi_host.py), and `post_alert` for one webhook to a real server. See tests/README.md.

Each sender thread posts distinct group keys (`storm-<sender>-<n>`, one alert each) to the
server's webhook URL and notes what came of each post: accepted (with the delivery id the
server returned), refused (an answer other than 2xx) or failed (no answer). How senders retry
and pace themselves is what the tests differ in, so it is a parameter:

- `attempts`: posts per key at most (a sender's retries), or None to retry until it is
  accepted or the storm stops (as Alertmanager does);
- `resend`: post each key `attempts` times even when accepted (a sender that sends a
  body twice: the server must apply it once);
- `retry_pause` after a refused or failed post, `pause` after each key;
- `url`: a string, or a callable read before each post when the server changes mid-storm.

Times are wall-clock (`time.time()`), comparable with the database's timestamps.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple

import requests

from tests.support import am_alert, am_payload


class Accepted(NamedTuple):
    at: float
    delivery: int
    key: str


class Refused(NamedTuple):
    at: float
    status: int
    text: str


def alert_body(key: str) -> str:
    """One firing alert in a group of its own, as Alertmanager posts it."""
    return json.dumps(am_payload(am_alert(fingerprint=f"fp-{key}"), group_key=key))


def post_alert(base: str, token: str, key: str | None = None, *, timeout: float = 10) -> int:
    """POST one alert (group `key`, or the default group) to the server at `base`; it must be
    accepted (202). Returns the delivery id."""
    body = alert_body(key) if key else json.dumps(am_payload(am_alert()))
    response = requests.post(
        f"{base}/hooks/alertmanager/{token}",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=timeout,
    )
    assert response.status_code == 202, response.text
    return response.json()["delivery"]


class Storm:
    """Senders posting distinct group keys; see the module docstring for the parameters."""

    def __init__(
        self,
        url: str | Callable[[], str],
        *,
        attempts: int | None,
        resend: bool = False,
        timeout: float = 5,
        retry_pause: float = 0.0,
        pause: float = 0.0,
    ):
        self.url = url if callable(url) else lambda: url
        self.attempts = attempts
        self.resend = resend
        self.timeout = timeout
        self.retry_pause = retry_pause
        self.pause = pause
        self.accepted: list[Accepted] = []
        self.refusals: list[Refused] = []  # answers other than 2xx
        self.errors = 0  # posts that got no answer (refused connection, cut off, timeout)
        self.attempted: set[str] = set()  # every key a sender started on
        self.given_up: list[str] = []  # keys never accepted in `attempts` posts
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.stopped_at: float | None = None

    @property
    def failed(self) -> int:
        """Posts refused or unanswered."""
        return len(self.refusals) + self.errors

    def delivery_ids(self) -> set[int]:
        return {a.delivery for a in self.accepted}

    def keys(self) -> set[str]:
        return {a.key for a in self.accepted}

    @contextlib.contextmanager
    def running(self, senders: int, *, also=(), join_timeout: float = 10) -> Iterator[None]:
        """Run `senders` sender threads (and the callables in `also`, each in a thread of its
        own, which should return once `self.stop` is set) for the block's duration."""
        threads = [threading.Thread(target=self.sender, args=(n,)) for n in range(senders)]
        threads += [threading.Thread(target=target) for target in also]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            self.stop.set()
            self.stopped_at = time.time()
            for thread in threads:
                thread.join(timeout=join_timeout)

    def _another_attempt(self, made: int) -> bool:
        if self.attempts is None:
            return not self.stop.is_set()
        return made < self.attempts  # a key being retried is finished after the storm stops

    def _post(self, session: requests.Session, body: str, key: str) -> bool:
        """One post; whether it was accepted. Raises requests' errors (after counting them)."""
        try:
            response = session.post(
                self.url(),
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException:
            with self.lock:
                self.errors += 1
            raise
        with self.lock:
            if 200 <= response.status_code < 300:
                self.accepted.append(Accepted(time.time(), response.json()["delivery"], key))
                return True
            self.refusals.append(Refused(time.time(), response.status_code, response.text))
            return False

    def sender(self, n: int) -> None:
        session = requests.Session()
        i = 0
        while not self.stop.is_set():
            key = f"storm-{n}-{i}"
            body = alert_body(key)
            with self.lock:
                self.attempted.add(key)
            accepted, made = False, 0
            while self._another_attempt(made):
                made += 1
                try:
                    if self._post(session, body, key):
                        accepted = True
                        if self.resend:
                            continue
                        break
                except requests.RequestException:
                    session = requests.Session()
                if self.retry_pause:
                    time.sleep(self.retry_pause)
            if not accepted and self.attempts is not None:
                with self.lock:
                    self.given_up.append(key)
            i += 1
            if self.pause:
                time.sleep(self.pause)
