"""Group commit for webhook inserts: the webhooks a web process is answering at the same
moment share one statement and one commit instead of paying a round trip and a commit each.

Used where a web process answers many requests at once cheaply: gunicorn's gevent workers
(`config.launch.web_server_args`), where `threading` is gevent's and a waiting request
costs a greenlet. A request hands its row to this process's committer and waits; the
committer takes every row waiting at that moment (up to MAX_BATCH) and stores them with
one INSERT ... SELECT over arrays, which also finds each row's enabled integration by its
token's hash (as `intake._insert_for_token` does for one row), on a PostgreSQL connection
of its own; once that commits, each request is woken with its delivery id, or None when no
enabled integration has its token. Nothing is answered before the commit, so a 202 still
means "stored".

With sync workers (one request per process at a time) or on SQLite each request inserts
for itself (`intake._insert_for_token`).

Failures: if the statement fails (a bug; the rows are plain values), every row is tried
again alone, so one bad row fails alone. If the connection was lost, the committer
reconnects and tries the batch once more (a row stored twice is a duplicate delivery,
which processing ignores: docs/alerts.md, rule 5). Any other error goes to every waiting
request as Django's DatabaseError (the webhook answers 503).
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import psycopg
from django.db import DatabaseError, OperationalError, connections
from django.db.utils import DatabaseErrorWrapper

from core.runtime import green
from incidents.models import AlertDelivery, Integration

log = logging.getLogger(__name__)

MAX_BATCH = 128
WAIT_SECONDS = 30.0


def wanted() -> bool:
    """Batch where a waiting request costs a greenlet and a process has many in hand."""
    return green()


class Row(NamedTuple):
    """One webhook to store: its token's hash and source find the integration."""

    token_hash: str
    source: str
    received_at: datetime
    body: str


@dataclass
class _Waiting:
    row: Row
    done: threading.Event = field(default_factory=threading.Event)
    delivery_id: int | None = None
    error: BaseException | None = None


class Committer:
    """One per process and database: a thread that inserts waiting rows together."""

    def __init__(self, alias: str):
        self.alias = alias
        self.sql, self.defaults = _insert_sql(alias)
        self.rows: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()  # None: stop
        self.stopped = threading.Event()
        self.connection = None
        self.pid = os.getpid()
        threading.Thread(target=self._run, name=f"intake-commit-{alias}", daemon=True).start()

    def insert(self, row: Row) -> int | None:
        """Wait until the row is committed; its delivery id. A request that gives up waiting
        answers 503, and if its row is committed after all, the sender's retry makes a
        duplicate delivery, which processing ignores."""
        waiting = _Waiting(row)
        self.rows.put(waiting)
        if not waiting.done.wait(WAIT_SECONDS):
            raise OperationalError(f"the delivery was not stored within {WAIT_SECONDS:.0f}s")
        if waiting.error is not None:
            raise waiting.error
        return waiting.delivery_id

    def stop(self) -> None:
        """Finish what is waiting, then stop the thread and close the connection."""
        self.rows.put(None)
        self.stopped.wait(WAIT_SECONDS)

    def _run(self) -> None:
        try:
            while self._take_and_store():
                pass
        finally:
            if self.connection is not None:
                self.connection.close()  # psycopg's close does not raise
            self.stopped.set()

    def _take_and_store(self) -> bool:
        first = self.rows.get()
        if first is None:
            return False
        batch = [first]
        more = True
        while more and len(batch) < MAX_BATCH:
            try:
                waiting = self.rows.get_nowait()
            except queue.Empty:
                break
            if waiting is None:
                more = False  # stop after this batch
            else:
                batch.append(waiting)
        try:
            self._store(batch)
        except Exception as exc:  # never leave a request waiting, never die
            if isinstance(exc, OperationalError | psycopg.OperationalError):
                # The server is unreachable: each waiting request logs its own refusal.
                first_line = (str(exc).strip().splitlines() or [""])[0]
                log.warning("storing %s deliveries failed: %s", len(batch), first_line)
            else:
                log.exception("storing %s deliveries failed", len(batch))
            for waiting in batch:
                if not waiting.done.is_set():
                    waiting.error = exc if isinstance(exc, DatabaseError) else DatabaseError(exc)
                    waiting.done.set()
        return more

    def _store(self, batch: list[_Waiting]) -> None:
        try:
            ids = self._insert_together([waiting.row for waiting in batch])
        except DatabaseError:
            if self._connection_lost():
                log.warning("the database connection was lost; reconnecting and trying again")
                ids = self._insert_together([waiting.row for waiting in batch])
            elif len(batch) == 1:
                raise
            else:
                log.exception("a batch of %s deliveries failed; storing each alone", len(batch))
                for waiting in batch:
                    try:
                        waiting.delivery_id = self._insert_together([waiting.row])[0]
                    except DatabaseError as exc:
                        waiting.error = exc
                    waiting.done.set()
                return
        for waiting, delivery_id in zip(batch, ids, strict=True):
            waiting.delivery_id = delivery_id
            waiting.done.set()

    def _insert_together(self, rows: list[Row]) -> list[int | None]:
        """Store the rows in one statement and transaction; their ids, in order."""
        with DatabaseErrorWrapper(connections[self.alias]):
            connection = self._connect()
            arrays = [list(column) for column in zip(*rows, strict=True)]
            found = connection.execute(self.sql, [*arrays, *self.defaults])
            stored = found.fetchone()
        ids: list[int | None] = [None] * len(rows)
        for position, delivery_id in zip(stored[0] or [], stored[1] or [], strict=True):
            ids[position - 1] = delivery_id
        return ids

    def _connect(self) -> psycopg.Connection:
        """A connection of the committer's own, with Django's settings for this database but
        outside its pool (it is held for the life of the process)."""
        if self.connection is None or self.connection.closed:
            params = connections[self.alias].get_connection_params()
            params.pop("cursor_factory")  # Django's binds values in Python; psycopg's sends them
            # apart, so the statement is prepared once (prepare_threshold) and its values,
            # the bodies included, are not quoted into it.
            self.connection = psycopg.connect(**params, autocommit=True)  # one statement a batch
        return self.connection

    def _connection_lost(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            self.connection = None
            return True
        return False


_committers: dict[str, Committer] = {}
_lock = threading.Lock()


def insert(alias: str, row: Row) -> int | None:
    """Store one row through this process's committer for `alias`; its delivery id, or None
    when no enabled integration has that token."""
    committer = _committers.get(alias)
    if committer is None or committer.pid != os.getpid():
        with _lock:
            committer = _committers.get(alias)
            if committer is None or committer.pid != os.getpid():
                committer = _committers[alias] = Committer(alias)
    return committer.insert(row)


def new_delivery_columns(connection) -> tuple[str, list]:
    """What every webhook INSERT writes, here and in `intake._insert_for_token`: the quoted
    columns (integration, received_at, body, then those a new delivery takes the model's
    defaults for) and the values of those defaults, ready for this database."""
    delivery = AlertDelivery._meta
    quote = connection.ops.quote_name
    fields = [delivery.get_field(name) for name in _NEW_DELIVERY_DEFAULTS]
    columns = ", ".join(
        quote(delivery.get_field(name).column)
        for name in ("integration", "received_at", "body", *_NEW_DELIVERY_DEFAULTS)
    )
    return columns, [field.get_db_prep_save(field.get_default(), connection) for field in fields]


_NEW_DELIVERY_DEFAULTS = ("status", "attempts", "claim_token", "error", "note")


@functools.cache
def _insert_sql(alias: str) -> tuple[str, list]:
    """One statement for a batch, and the values it stores in every row (a new delivery's
    defaults). The rows come as four arrays (token hash, source, receive time, body); it
    answers the positions (1-based) of the rows it stored, and their ids, both ascending.

    The rows are inserted in position order by one statement, so the ids they draw from the
    sequence rise in that order too: the i-th stored position got the i-th smallest id.
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    delivery, integration = AlertDelivery._meta, Integration._meta
    columns, defaults = new_delivery_columns(connection)
    names = {
        "table": delivery.db_table,
        "pk": delivery.pk.column,
        "integrations": integration.db_table,
        "integration_pk": integration.pk.column,
        "token": integration.get_field("token_hash").column,
        "source": integration.get_field("source").column,
        "enabled": integration.get_field("enabled").column,
    }
    q = {key: quote(name) for key, name in names.items()}
    # Every identifier comes from the models' metadata, quoted; every value is a parameter.
    sql = (
        "WITH given AS (SELECT * FROM unnest(%b::text[], %b::text[], %b::timestamptz[], "  # noqa: S608
        "%b::text[]) WITH ORDINALITY AS t(token_hash, source, received_at, body, position)), "
        f"found AS (SELECT given.position, i.{q['integration_pk']} AS integration_id, "
        f"given.received_at, given.body FROM given JOIN {q['integrations']} AS i "
        f"ON i.{q['token']} = given.token_hash AND i.{q['source']} = given.source "
        f"AND i.{q['enabled']}), "
        f"stored AS (INSERT INTO {q['table']} ({columns}) "
        f"SELECT integration_id, received_at, body, {', '.join(['%s'] * len(defaults))} "
        f"FROM found ORDER BY position RETURNING {q['pk']}) "
        "SELECT (SELECT array_agg(position ORDER BY position) FROM found), "
        f"(SELECT array_agg({q['pk']} ORDER BY {q['pk']}) FROM stored)"
    )
    return sql, defaults


def stop_all() -> None:
    """Stop this process's committers (tests, before their database is dropped)."""
    with _lock:
        committers = [c for c in _committers.values() if c.pid == os.getpid()]
        _committers.clear()
    for committer in committers:
        committer.stop()
