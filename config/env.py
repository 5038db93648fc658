"""Read settings from the environment, failing loudly at start-up on bad values.

Each helper raises ImproperlyConfigured naming the variable, so a typo in a
deployment shows up as one clear line instead of a surprise at 3 a.m.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of {', '.join(choices)}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list:
    """A comma-separated list of IP networks (`10.0.0.0/8, 192.168.1.7`)."""
    import ipaddress

    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an IP network (e.g. 10.0.0.0/8 or 192.168.1.7)"
            ) from None
    return networks


def database_from_url(
    url: str, *, name: str = "DATABASE_URL", pooled: bool = False, pgbouncer: bool = False
) -> dict:
    """Turn postgres://user:pass@host:port/db?opt=v or sqlite:///path into a DATABASES entry.

    `pooled`: each process shares a pool of at most PAGERLINE_DB_POOL_SIZE PostgreSQL
    connections (Django's psycopg pool), handed back when a request ends. For gevent web
    workers (`green()`), where every request greenlet would otherwise open and keep its own.

    `pgbouncer`: the URL names a PgBouncer in transaction pooling mode, where one client's
    transactions may each run on another server connection. So no server-side cursors (a
    named cursor outlives the transaction that declared it: QuerySet.iterator()) and no
    prepared statements (a statement prepared on one server connection is missing on the
    next), unless the URL sets prepare_threshold itself (PgBouncer 1.21+ with
    max_prepared_statements keeps track of them).
    """
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        if not parts.path.strip("/"):
            raise ImproperlyConfigured(f"{name} must name a database: {parts.scheme}://host/dbname")
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        threshold = options.get("prepare_threshold", "none" if pgbouncer else None)
        options["prepare_threshold"] = _prepare_threshold(threshold, name)
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"{name} has an invalid port") from None
        if pooled:
            size = env_int("PAGERLINE_DB_POOL_SIZE", 10, minimum=1)
            options["pool"] = {"min_size": 1, "max_size": size, "timeout": 10}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "CONN_MAX_AGE": 0 if pooled else 60,  # a pooled connection goes back to the pool
            "CONN_HEALTH_CHECKS": True,
            "DISABLE_SERVER_SIDE_CURSORS": pgbouncer,
            "OPTIONS": options,
        }
    if parts.scheme == "sqlite":
        # sqlite:///relative/path.sqlite3 or sqlite:////absolute/path.sqlite3
        path = unquote(parts.path)
        absolute = url.startswith("sqlite:////")
        path = ("/" if absolute else "") + path.lstrip("/")
        if not path:
            raise ImproperlyConfigured(f"{name} must name a file: sqlite:///path/to/db.sqlite3")
        return sqlite_database(Path(path))
    raise ImproperlyConfigured(
        f"{name} scheme {parts.scheme!r} is not supported (use postgres:// or sqlite:///)"
    )


def sqlite_database(path: Path) -> dict:
    # WAL lets the web process read while a worker writes; IMMEDIATE transactions take the
    # write lock up front so two writers queue on busy_timeout instead of failing mid-way.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        "TEST": {"NAME": str(path.with_name(f"test_{path.name}"))},
    }


def redis_location(url: str, *, name: str = "REDIS_URL") -> tuple[str, str]:
    """Return (celery broker URL, redis-py URL) for redis://, rediss://, unix socket or
    sentinel:// URLs. A Sentinel URL is kept as it is for redis-py: the cache's client
    (config.redis_sentinel) reads it with `redis_sentinel`, as do the broker's options."""
    parts = urlsplit(url)
    if parts.scheme in {"redis", "rediss"}:
        if not parts.hostname:
            raise ImproperlyConfigured(f"{name} must name a host: redis://host:6379/0")
        return url, url
    if parts.scheme in {"unix", "redis+socket"}:
        path = parts.path
        if not path:
            raise ImproperlyConfigured(f"{name} must name a socket: unix:///path/to/redis.sock")
        query = f"?{parts.query}" if parts.query else ""
        return f"redis+socket://{path}{query}", f"unix://{path}{query}"
    if parts.scheme == "sentinel":
        return redis_sentinel(url, name=name).broker_url, url
    raise ImproperlyConfigured(
        f"{name} scheme {parts.scheme!r} is not supported "
        "(use redis://, rediss://, unix:// or sentinel://)"
    )


SENTINEL_DEFAULT_PORT = 26379
_SENTINEL_FORM = "sentinel://[:password@]host:26379[,host2:26379...]/<master name>[/<db>]"


@dataclass(frozen=True)
class RedisSentinel:
    """Where Redis Sentinel says the primary is: the sentinels to ask, the name the primary
    is monitored under, the database number, and the password of the Redis servers (the
    sentinels' own, if they have one, is `sentinel_password`)."""

    sentinels: tuple[tuple[str, int], ...]
    master_name: str
    db: int = 0
    password: str | None = None
    sentinel_password: str | None = None

    @property
    def broker_url(self) -> str:
        """Kombu's form: one sentinel:// URL per sentinel, joined by `;` (the password and
        the database number are read from the first)."""
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return ";".join(
            f"sentinel://{auth}{_host_for_url(host)}:{port}/{self.db}"
            for host, port in self.sentinels
        )

    @property
    def broker_transport_options(self) -> dict:
        options: dict = {"master_name": self.master_name}
        if self.sentinel_password:
            options["sentinel_kwargs"] = {"password": self.sentinel_password}
        return options


def redis_sentinel(url: str, *, name: str = "REDIS_URL") -> RedisSentinel | None:
    """Parse `sentinel://[:password@]host1:26379[,host2:26379...]/<master name>[/<db>]`
    (`?sentinel_password=...` when the sentinels ask for one); None for any other scheme."""
    scheme, sep, rest = url.partition("://")
    if scheme != "sentinel":
        return None
    if not sep:
        raise ImproperlyConfigured(f"{name} must look like {_SENTINEL_FORM}")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if not at:
        hosts = netloc
    password = unquote(userinfo.partition(":")[2]) if userinfo else None
    sentinels = tuple(_sentinel_address(item, name) for item in hosts.split(","))
    segments = [segment for segment in path.split("/") if segment]
    if not segments or len(segments) > 2:
        raise ImproperlyConfigured(
            f"{name} must name the monitored primary (and may name a database): {_SENTINEL_FORM}"
        )
    db = 0
    if len(segments) == 2:
        if not segments[1].isdigit():
            raise ImproperlyConfigured(
                f"{name}: database {segments[1]!r} is not a number: {_SENTINEL_FORM}"
            )
        db = int(segments[1])
    options = {key: values[-1] for key, values in parse_qs(query).items()}
    unknown = set(options) - {"sentinel_password"}
    if unknown:
        raise ImproperlyConfigured(
            f"{name}: unknown option(s) {', '.join(sorted(unknown))} "
            "(a sentinel:// URL takes only sentinel_password)"
        )
    return RedisSentinel(
        sentinels=sentinels,
        master_name=unquote(segments[0]),
        db=db,
        password=password or None,
        sentinel_password=options.get("sentinel_password") or None,
    )


def _sentinel_address(item: str, name: str) -> tuple[str, int]:
    item = item.strip()
    if item.startswith("["):  # [ipv6]:port
        host, _, port = item[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = item.partition(":")
    if not host:
        raise ImproperlyConfigured(f"{name} must name each sentinel's host: {_SENTINEL_FORM}")
    if not port:
        return host, SENTINEL_DEFAULT_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ImproperlyConfigured(f"{name}: sentinel {item!r} has an invalid port")
    return host, int(port)


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def celery_queues(default: str, *, notify_tasks: tuple[str, ...]) -> dict:
    """Celery's queues for the default queue name: the default one, and `<default>.notify`
    for messages to people (the tasks `notify_tasks`), which a worker started without -Q
    consumes too (taking from each in turn), so a page's message never waits behind a
    backlog of escalations. Each queue is bound by its own name: a message for one is never
    copied to the other."""
    from kombu import Exchange, Queue

    notify = f"{default}.notify"
    return {
        "PAGERLINE_NOTIFY_QUEUE": notify,
        "CELERY_TASK_DEFAULT_QUEUE": default,
        "CELERY_TASK_QUEUES": tuple(
            Queue(q, Exchange(q), routing_key=q) for q in (default, notify)
        ),
        "CELERY_TASK_ROUTES": {name: {"queue": notify} for name in notify_tasks},
    }


def email_from_url(url: str, *, name: str = "EMAIL_URL") -> dict:
    """smtp://user:pass@host:port, smtp+tls://..., console://, locmem:// -> email settings."""
    parts = urlsplit(url)
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
        "smtp+ssl": "django.core.mail.backends.smtp.EmailBackend",
    }
    if parts.scheme not in backends:
        raise ImproperlyConfigured(
            f"{name} scheme {parts.scheme!r} is not supported "
            "(use smtp://, smtp+tls://, smtp+ssl://, console:// or locmem://)"
        )
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port") from None
    return {
        "EMAIL_BACKEND": backends[parts.scheme],
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": port or 25,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        "EMAIL_USE_SSL": parts.scheme == "smtp+ssl",
    }


def _prepare_threshold(raw: str | None, name: str) -> int | None:
    """psycopg prepares a statement after this many executions on a connection (`none`: never).

    Django turns preparing off for the sake of connection poolers; we turn it on, as only
    server-side binding cursors are ever prepared, and the one that uses it is the webhook
    INSERT (incidents.intake.drain): parsing and planning it took ~0.1-0.15 ms of its
    ~0.35 ms round trip here. Behind PgBouncer in transaction mode, PAGERLINE_PGBOUNCER=true
    makes the default `none` (database_from_url).
    """
    if raw is None:
        return 5
    if raw.strip().lower() == "none":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ImproperlyConfigured(
            f"{name}: prepare_threshold={raw!r} must be a whole number >= 0 or 'none'"
        )
    return value
