"""Waking a worker when deliveries are stored: a Redis flag (SET NX) collapses a storm
of webhooks into one `incidents.drain_deliveries` message, sent from a per-process kick
thread at most every 20 ms (docs/architecture.md, "The path of an alert", step 3).

A lost kick loses nothing: the beat re-drive finds pending deliveries in the database."""

from __future__ import annotations

import atexit
import functools
import logging
import os
import threading
import time

from celery import current_app
from django.core.cache import cache

from incidents import task_names

log = logging.getLogger(__name__)

_KICK_KEY = "intake:drain-kick"


_kick_suppressed_until = 0.0


def deliveries_kick() -> None:
    """Ask a worker to drain pending deliveries, at most once per short interval.

    The flag in Redis collapses a storm of webhooks into one Celery message; the draining
    task clears it before it looks for work, so a delivery committed after that look sets
    it again. If Redis is down we log and move on: the delivery is committed and the
    beat re-drive will find it.
    """
    global _kick_suppressed_until
    if time.monotonic() < _kick_suppressed_until:
        return
    try:
        # cache.add(_KICK_KEY, 1, timeout=10), without building a Redis client per call.
        if _kick_client().set(cache.make_and_validate_key(_KICK_KEY), 1, nx=True, ex=10):
            current_app.send_task(task_names.DRAIN_DELIVERIES, retry=False)
    except Exception:
        _kick_suppressed_until = time.monotonic() + 5
        log.warning("could not enqueue the drain task; the beat re-drive will pick it up")


# A process under load commits a delivery every millisecond or so, and a kick per request
# (a Redis round trip) cost about 15% of intake's throughput: kicks are sent from a
# background thread instead, at most this often, and always after the last commit that
# asked for one.
_KICK_COALESCE_SECONDS = 0.02
_kicker: tuple[int, threading.Event] | None = None
_kicker_lock = threading.Lock()


def deliveries_kick_soon() -> None:
    """`deliveries_kick` within a few milliseconds, from this process's kick thread.

    The thread clears its wake-up flag before each kick, so every commit that asked before
    the kick started is covered by it (the drain clears the Redis flag before it looks);
    a commit that asks after that wakes it again. The thread kicks once more at exit.
    """
    kicker = _kicker
    if kicker is None or kicker[0] != os.getpid():  # not started in this process (or forked)
        kicker = _start_kicker()
    kicker[1].set()


def _start_kicker() -> tuple[int, threading.Event]:
    global _kicker
    with _kicker_lock:
        if _kicker is None or _kicker[0] != os.getpid():
            wanted = threading.Event()
            threading.Thread(
                target=_kick_when_wanted, args=(wanted,), name="deliveries-kick", daemon=True
            ).start()
            atexit.register(_kick_if_wanted, wanted)
            _kicker = (os.getpid(), wanted)
        return _kicker


def _kick_when_wanted(wanted: threading.Event) -> None:
    while True:
        wanted.wait()
        try:
            _kick_if_wanted(wanted)
        except Exception:  # never let the thread die: later commits still need kicks
            log.exception("the deliveries kick failed")
        time.sleep(_KICK_COALESCE_SECONDS)


def _kick_if_wanted(wanted: threading.Event) -> None:
    if wanted.is_set():
        wanted.clear()
        deliveries_kick()


@functools.cache
def _kick_client():
    """One Redis client per process, on the cache's own connection pool: Django's cache
    builds a new client object for every call (0.1-0.2 ms of CPU each time)."""
    return cache._cache.get_client(write=True)
