"""Django's Redis cache behind Redis Sentinel (REDIS_URL=sentinel://...).

Django's RedisCache connects to one fixed address. This backend asks the sentinels where the
primary is instead (redis-py's `Sentinel.master_for`), and asks again whenever a connection
is opened, so after a failover the cache, and every raw client taken from it with
`cache._cache.get_client()` (the deliveries kick, the sign-in guard's clean-up), reach the
promoted replica without a restart. Reads go to the primary too: the sign-in counters and
the kick flag must read what was just written.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from config.env import RedisSentinel, redis_sentinel


def sentinel_primary(location: RedisSentinel, **connection_options):
    """A redis-py client for the primary the sentinels currently name."""
    from redis.sentinel import Sentinel

    sentinel_options = {
        key: value for key, value in connection_options.items() if key.startswith("socket_")
    }
    if location.sentinel_password:
        sentinel_options["password"] = location.sentinel_password
    sentinel = Sentinel(
        list(location.sentinels),
        sentinel_kwargs=sentinel_options,
        **connection_options,
    )
    return sentinel.master_for(location.master_name, db=location.db, password=location.password)


class SentinelCacheClient(RedisCacheClient):
    def _get_connection_pool(self, write):
        if 0 not in self._pools:
            location = redis_sentinel(self._servers[0])
            if location is None:
                raise ValueError(f"not a sentinel:// location: {self._servers[0]!r}")
            self._pools[0] = sentinel_primary(location, **self._pool_options).connection_pool
        return self._pools[0]


class SentinelRedisCache(RedisCache):
    """CACHES backend for a sentinel:// LOCATION (one URL naming every sentinel)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._servers = [server]  # RedisCache would split the sentinels' list at its commas
        self._class = SentinelCacheClient
