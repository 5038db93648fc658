"""Kombu's Redis transports (redis://, rediss://, unix sockets, sentinel://), with one fix.

When Redis goes away (a restart, or a lost primary that Sentinel replaces), Celery's
consumer tears its broker connection down (`collect`) before it closes it. If the worker
holds an unacknowledged message then (a running `acks_late` task, an escalation's ETA task
waiting for its time), the channel's second close tries to put it back through a connection
already detached from its URL, and kombu raises an AttributeError, which stops the worker
("Unrecoverable error") instead of reconnecting. Here that case raises the connection error
that close() ignores: the worker reconnects, and the message stays in kombu's unacked index,
from which it is restored after the visibility timeout if Redis kept it (every task is safe
to run twice; beat re-drives deliveries and audits escalation steps and pages meanwhile).
"""

from __future__ import annotations

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis


class _DetachedIsDisconnected:
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise kombu_redis.redis.exceptions.ConnectionError(
                "the broker connection was closed; reconnecting"
            )
        return super()._connparams(asynchronous)


class Channel(_DetachedIsDisconnected, kombu_redis.Channel):
    pass


class SentinelChannel(_DetachedIsDisconnected, kombu_redis.SentinelChannel):
    pass


class Transport(kombu_redis.Transport):
    Channel = Channel


class SentinelTransport(kombu_redis.SentinelTransport):
    Channel = SentinelChannel


def use_fixed_transports() -> None:
    """Make Redis broker URLs use these transports (kombu resolves a URL's scheme through its
    aliases, also when it fails over to the next sentinel's URL). Called before the Celery
    app exists, in every process."""
    TRANSPORT_ALIASES["redis"] = TRANSPORT_ALIASES["rediss"] = f"{__name__}:Transport"
    TRANSPORT_ALIASES["sentinel"] = f"{__name__}:SentinelTransport"
