"""Failed sign-ins are throttled per client address and per (account, address) pair.

Counters live in the shared cache (Redis), so a limit holds across every web process and
host. A throttle never locks an account out: it refuses one address (or one account from one
address) for a cool-down, so the right person signing in from anywhere else gets in, and
nobody can lock the on-call person out at 3 a.m. by guessing their password.

Kinds of guard (`Guard`): password sign-in per address and per account+address, password
reset requests per address, API token attempts per address. Each counts events in a fixed
window; reaching the limit starts a cool-down. The attempt that starts it and its release
(seen by the first attempt after it ends) are audited, with the number refused in between;
refused attempts themselves are counted, not each written to the audit log, so guessing
cannot flood it.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from core.audit import audit_record

log = logging.getLogger(__name__)

KEY_PREFIX = "signin-guard"
# A cool-down's record outlives it by this much, so the first attempt after it can audit
# the release (Redis removes it afterwards if nobody comes back).
RELEASE_GRACE_SECONDS = 24 * 3600


def clock() -> float:
    """Now, in seconds. Tests replace it to pass a cool-down without waiting."""
    return time.time()


def client_address(request) -> str:
    """The client's IP address: REMOTE_ADDR, or the nearest address in X-Forwarded-For that
    is not one of PAGERLINE_TRUSTED_PROXIES when the request came through one of them.
    Anyone else's X-Forwarded-For is ignored: a client could write any address there."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = settings.PAGERLINE_TRUSTED_PROXIES
    if not proxies or not _in(remote, proxies):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    # Read from the right: each trusted proxy appended the address it saw; the first hop
    # no trusted proxy vouches for is the client (whatever it claims further left is not).
    for hop in reversed([hop for hop in hops if hop]):
        if not _in(hop, proxies):
            return hop[:64]
    return remote


def _in(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _fail_open(method):
    """With the cache unreachable nothing is counted and nobody is refused: an outage of
    Redis must not keep the on-call person from signing in."""

    @functools.wraps(method)
    def guarded(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except RedisError as exc:
            log.warning("sign-in throttling skipped, cache unreachable: %s", exc)
            return 0

    return guarded


@dataclass(frozen=True)
class SignInThrottle:
    """The audit log's object for a cool-down (object_type "signinthrottle", id the address)."""

    pk: str


@dataclass(frozen=True)
class Guard:
    name: str  # "signin-address", ...
    limit_setting: str
    what: str  # for messages: "failed sign-ins"

    @property
    def limit(self) -> int:
        return getattr(settings, self.limit_setting)

    def _base(self, *, address: str, account: str | None) -> str:
        parts = [KEY_PREFIX, self.name, address]
        if account is not None:
            # Hashed: a username is free text, a cache key is not.
            parts.append(hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32])
        return ":".join(parts)

    @_fail_open
    def blocked_for(self, *, address: str, account: str | None = None) -> int:
        """Seconds until this address (and account) may try again; 0 when it may now.
        A refused attempt is counted for the release's audit entry."""
        base = self._base(address=address, account=account)
        record = cache.get(f"{base}:block")
        if record is None:
            return 0
        remaining = record["until"] - clock()
        if remaining > 0:
            record["refused"] = record.get("refused", 0) + 1
            cache.set(f"{base}:block", record, timeout=_block_ttl(remaining))
            return math.ceil(remaining)
        cache.delete_many([f"{base}:block", f"{base}:count"])
        audit_record(
            actor=None,
            action=f"{self.name}.released",
            obj=SignInThrottle(address[:64]),
            summary=f"{self.what.capitalize()} from {address}"
            f"{' for one account' if account is not None else ''}: cool-down over, "
            f"{record.get('refused', 0)} attempts refused during it",
            changes={"address": address, "refused": record.get("refused", 0)},
        )
        return 0

    @_fail_open
    def record(self, *, address: str, account: str | None = None) -> int:
        """Count one event; returns the cool-down in seconds it started, or 0."""
        base = self._base(address=address, account=account)
        window = settings.PAGERLINE_SIGNIN_COOLDOWN_MINUTES * 60
        cache.add(f"{base}:count", 0, timeout=window)
        try:
            count = cache.incr(f"{base}:count")
        except ValueError:  # expired between add and incr
            cache.set(f"{base}:count", 1, timeout=window)
            count = 1
        if count < self.limit:
            return 0
        # Only the event that reaches the limit starts the cool-down and writes the entry;
        # add() makes that one event even with several processes counting at once.
        if not cache.add(
            f"{base}:block", {"until": clock() + window, "refused": 0}, timeout=_block_ttl(window)
        ):
            return 0
        audit_record(
            actor=None,
            action=f"{self.name}.throttled",
            obj=SignInThrottle(address[:64]),
            summary=f"{count} {self.what} from {address}"
            f"{' for one account' if account is not None else ''}: refused for "
            f"{settings.PAGERLINE_SIGNIN_COOLDOWN_MINUTES} minutes",
            changes={"address": address, "count": count},
        )
        return window

    @_fail_open
    def clear(self, *, address: str, account: str | None = None) -> None:
        cache.delete(f"{self._base(address=address, account=account)}:count")


def _block_ttl(remaining: float) -> int:
    return math.ceil(remaining) + RELEASE_GRACE_SECONDS


SIGNIN_ADDRESS = Guard("signin-address", "PAGERLINE_SIGNIN_FAILURES_PER_ADDRESS", "failed sign-ins")
SIGNIN_ACCOUNT = Guard("signin-account", "PAGERLINE_SIGNIN_FAILURES_PER_ACCOUNT", "failed sign-ins")
PASSWORD_RESET = Guard(
    "password-reset", "PAGERLINE_PASSWORD_RESETS_PER_ADDRESS", "password reset requests"
)
API_TOKEN = Guard("api-token", "PAGERLINE_SIGNIN_FAILURES_PER_ADDRESS", "failed API token attempts")


def minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def signin_blocked_for(*, address: str, username: str) -> int:
    """Seconds this address may not sign in to this account (0: it may try)."""
    return max(
        SIGNIN_ADDRESS.blocked_for(address=address),
        SIGNIN_ACCOUNT.blocked_for(address=address, account=username),
    )


def signin_failed(*, address: str, username: str) -> int:
    """Count a failed password; returns the cool-down it started (seconds), or 0."""
    return max(
        SIGNIN_ADDRESS.record(address=address),
        SIGNIN_ACCOUNT.record(address=address, account=username),
    )


def signin_succeeded(*, address: str, username: str) -> None:
    # Only the account's own count starts again: the address's keeps counting, or one known
    # password would let an address guess everyone else's without end.
    SIGNIN_ACCOUNT.clear(address=address, account=username)
