"""Kombu's Redis Sentinel transport (REDIS_URL=sentinel://...), with one fix.

When the primary is lost, Celery's consumer tears its broker connection down (`collect`)
before it closes it. If the worker holds an unacknowledged message then (a running
`acks_late` task, an ETA task waiting for its time), the channel's second close tries to put
it back through a connection that is already detached from its URL, and kombu raises an
AttributeError, which stops the worker ("Unrecoverable error") instead of reconnecting to
the promoted replica. Here that case raises the connection error that close() ignores: the
worker reconnects, and the message stays in kombu's unacked index, from which it is restored
after the visibility timeout (every task is safe to run twice; deliveries are also re-driven
by beat, and escalation steps and pages are audited).
"""

from __future__ import annotations

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis

SCHEME = "sentinel"


class SentinelChannel(kombu_redis.SentinelChannel):
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise kombu_redis.redis.exceptions.ConnectionError(
                "the broker connection was closed; reconnecting through Sentinel"
            )
        return super()._connparams(asynchronous)


class SentinelTransport(kombu_redis.SentinelTransport):
    Channel = SentinelChannel


def use_sentinel_transport() -> None:
    """Make sentinel:// broker URLs use this transport (kombu resolves the scheme through
    its aliases, also when it fails over to the next sentinel's URL)."""
    TRANSPORT_ALIASES[SCHEME] = f"{__name__}:SentinelTransport"
