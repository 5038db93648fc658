"""Writes for alert intake: integrations, deliveries (accept, claim, process) and applying
parsed alert events to incidents."""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from incidents import sources
from incidents.alerts import AlertEvent, PayloadError
from incidents.models import (
    AlertDelivery,
    DeliveryStatus,
    Integration,
    Service,
    hash_token,
)
from incidents.services import alerts, intake_batch

log = logging.getLogger(__name__)

DRAIN_TASK = "incidents.drain_deliveries"
_KICK_KEY = "intake:drain-kick"
_FANOUT_KEY = "intake:drain-fanout"


# --- integrations ---------------------------------------------------------------------------


def integration_create(*, service: Service, source: str, name: str = "") -> tuple[Integration, str]:
    """Create an integration; the plain token is returned once and only its hash is kept."""
    if source not in sources.REGISTRY:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(sorted(sources.REGISTRY))}")
    token = secrets.token_urlsafe(32)
    integration = Integration.objects.create(
        service=service,
        source=source,
        name=name or f"{sources.REGISTRY[source].name} for {service.name}",
        token_hash=hash_token(token),
        token_prefix=token[:6],
    )
    return integration, token


def integration_set_token(*, integration: Integration, token: str) -> None:
    integration.token_hash = hash_token(token)
    integration.token_prefix = token[:6]
    integration.save(update_fields=["token_hash", "token_prefix"])


def webhook_url(*, integration: Integration, token: str) -> str:
    return f"{settings.PAGERLINE_BASE_URL}/hooks/{integration.source}/{token}"


# --- intake: accept ---------------------------------------------------------------------------

T = TypeVar("T")


def delivery_accept(
    *,
    body: str,
    received_at: datetime,
    integration: Integration | None = None,
    source: str = "",
    token: str = "",
) -> int | None:
    """Store a webhook body and return the delivery's id; once this commits the alert will be
    processed, whatever fails next.

    Give the `integration`, or the `source` and the plain `token` the sender presented: then
    one statement finds the enabled integration by the token's hash and stores the body
    (one round trip), and None means no such integration (nothing was stored).
    """
    if integration is not None:
        delivery_id = on_live_connection(
            lambda: (
                AlertDelivery.objects.create(
                    integration=integration, body=body, received_at=received_at
                ).pk
            )
        )
    elif token:
        delivery_id = on_live_connection(
            lambda: _insert_for_token(
                source=source, token_hash=hash_token(token), body=body, received_at=received_at
            )
        )
    else:
        return None
    if delivery_id is not None:
        connection = connections[router.db_for_write(AlertDelivery)]
        if connection.in_atomic_block:
            transaction.on_commit(deliveries_kick_soon, using=connection.alias)
        else:
            # Committed already. (on_commit would first ask the connection whether it is in
            # autocommit, which opens one: a pool round trip per webhook under gevent, where
            # the insert went through the committer's connection instead.)
            deliveries_kick_soon()
    return delivery_id


def on_live_connection(operation: Callable[[], T]) -> T:
    """Run one statement of the webhook path (autocommit) without Django's health check
    (`CONN_HEALTH_CHECKS`, a `SELECT 1` round trip per request): if it fails because the
    server dropped the connection (a restart, a failover, an idle timeout), reconnect and
    run it once more. Any other failure is raised (the webhook answers 503).

    Running a store twice can leave a duplicate delivery, which is harmless: processing the
    same body again changes nothing (docs/alerts.md, rule 5). Inside a transaction the
    operation simply runs, as a dropped connection there must fail the whole transaction.
    """
    connection = connections[router.db_for_write(AlertDelivery)]
    if connection.in_atomic_block:
        return operation()
    connection.health_check_done = True  # skip the check: a failure below reconnects instead
    try:
        return operation()
    except (InterfaceError, OperationalError):
        if connection.in_atomic_block or connection.is_usable():
            raise  # the connection works: the failure is real (a lock timeout, a full disk)
        log.warning("the database connection was lost; reconnecting and trying once more")
        connection.close()
        return operation()


def _insert_for_token(
    *, source: str, token_hash: str, body: str, received_at: datetime
) -> int | None:
    """INSERT ... SELECT from the integration with this token: authenticate and store at once."""
    connection = connections[router.db_for_write(AlertDelivery)]
    server_bound = connection.vendor == "postgresql" and not connection.queries_logged
    if server_bound and not connection.in_atomic_block and intake_batch.wanted():
        return intake_batch.insert(
            connection.alias,
            intake_batch.Row(token_hash, source, received_at, body),
        )
    sql, defaults, can_return = _insert_for_token_sql(connection.alias)
    params = [_received_at_field.get_db_prep_save(received_at, connection), body]
    params += [*defaults, token_hash, source]
    if server_bound:
        row = _execute_server_bound(connection, sql, params)
        return row[0] if row else None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if can_return:
            row = cursor.fetchone()
            return row[0] if row else None
        return cursor.lastrowid if cursor.rowcount == 1 else None  # SQLite before 3.35


_received_at_field = AlertDelivery._meta.get_field("received_at")


def _execute_server_bound(connection, sql: str, params: list) -> tuple | None:
    """Run one statement on PostgreSQL with its values sent apart from it (psycopg's
    server-side binding) instead of quoted into it in Python (Django's cursors, client-side
    binding), so psycopg can also prepare it once per connection (config.env,
    prepare_threshold) and PostgreSQL stops parsing and planning it on every webhook.
    Measured in one process: ~0.1 ms less CPU per insert here, and a round trip of
    0.15-0.25 ms instead of ~0.35 ms. Errors are Django's, as from any cursor; with queries
    being logged (tests, DEBUG) the statement goes through Django's cursor instead, so it
    is logged."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    with connection.wrap_database_errors, ServerBindingCursor(connection.connection) as cursor:
        return cursor.execute(sql, params).fetchone()


@functools.cache
def _insert_for_token_sql(alias: str) -> tuple[str, list, bool]:
    """The statement of `_insert_for_token` for this database, and the values it always
    stores (the model's defaults for a new delivery)."""
    connection = connections[alias]
    delivery_meta, integration_meta = AlertDelivery._meta, Integration._meta
    quote = connection.ops.quote_name
    columns, defaults = intake_batch.new_delivery_columns(connection)
    placeholders = ", ".join(["%s"] * len(defaults))
    enabled = integration_meta.get_field("enabled")
    defaults.append(enabled.get_db_prep_save(True, connection))
    can_return = connection.features.can_return_columns_from_insert
    integration_column = quote(delivery_meta.get_field("integration").column)
    returning = f" RETURNING {quote(delivery_meta.pk.column)}, {integration_column}"
    # Every identifier comes from the models' metadata, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(delivery_meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {quote(integration_meta.pk.column)}, %s, %s, {placeholders} "
        f"FROM {quote(integration_meta.db_table)} "
        f"WHERE {quote(enabled.column)} = %s "
        f"AND {quote(integration_meta.get_field('token_hash').column)} = %s "
        f"AND {quote(integration_meta.get_field('source').column)} = %s"
        + (returning if can_return else "")
    )
    return sql, defaults, can_return


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
            current_app.send_task(DRAIN_TASK, retry=False)
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


# --- intake: claim and process ----------------------------------------------------------------


def deliveries_claim(*, limit: int, now: datetime | None = None) -> tuple[str, list[AlertDelivery]]:
    """Claim up to `limit` unfinished deliveries for this worker (oldest first).

    A claim older than PAGERLINE_CLAIM_TIMEOUT_SECONDS belonged to a worker that died and
    is taken over. SKIP LOCKED lets several workers claim side by side on PostgreSQL;
    SQLite serialises writers instead.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.PAGERLINE_CLAIM_TIMEOUT_SECONDS)
    token = uuid.uuid4().hex
    claimable = Q(status=DeliveryStatus.PENDING) | Q(
        status=DeliveryStatus.PROCESSING, claimed_at__lt=stale
    )
    with transaction.atomic():
        ids = list(
            AlertDelivery.objects.filter(claimable)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return token, []
        AlertDelivery.objects.filter(Q(id__in=ids) & claimable).update(
            status=DeliveryStatus.PROCESSING,
            claim_token=token,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
    batch = list(
        AlertDelivery.objects.filter(claim_token=token, status=DeliveryStatus.PROCESSING)
        .select_related("integration__service")
        .order_by("id")
    )
    return token, batch


def delivery_process(*, delivery: AlertDelivery, token: str) -> str:
    """Apply one claimed delivery exactly once, in its own transaction; returns its status."""
    return deliveries_process(batch=[delivery], token=token)[0]


def deliveries_process(*, batch: list[AlertDelivery], token: str) -> list[str]:
    """Apply a claimed batch in ONE transaction (one commit, one fsync per batch): every
    delivery is parsed, then applied in order in memory, then written with a few bulk
    statements (`alerts.batch`).

    Marking a delivery processed happens in the same transaction as its effects, only for
    deliveries still claimed by us: a worker killed half-way leaves nothing behind, and a
    worker whose claim was taken over does nothing. If applying raises something
    unexpected (a bug), the batch is rolled back and redone one delivery at a time, each
    in its own savepoint, so that a bad delivery fails alone. If the database fails the
    batch (a deadlock, a failover), every delivery is handed back for the next drain.
    """
    try:
        for _ in range(2):
            try:
                with transaction.atomic():
                    return _process_together(batch=batch, token=token)
            except IntegrityError:
                # Another worker opened one of our keys a moment ago; a retry joins it.
                continue
            except DatabaseError:
                raise
            except Exception:
                log.exception("a batch of %s deliveries failed; retrying one by one", len(batch))
                break
        else:
            log.warning(
                "a batch of %s deliveries kept conflicting; retrying one by one", len(batch)
            )
        with transaction.atomic():
            return [_process_one(delivery=delivery, token=token) for delivery in batch]
    except DatabaseError:
        _deliveries_release(ids=[delivery.pk for delivery in batch], token=token)
        raise


def _parse(delivery: AlertDelivery) -> list[AlertEvent]:
    source = sources.get(delivery.integration.source)
    return source.parse(json.loads(delivery.body), delivery.integration.options)


def _process_together(*, batch: list[AlertDelivery], token: str) -> list[str]:
    mine = set(
        AlertDelivery.objects.select_for_update()
        .filter(
            pk__in=[delivery.pk for delivery in batch],
            claim_token=token,
            status=DeliveryStatus.PROCESSING,
        )
        .values_list("pk", flat=True)
    )
    statuses = {delivery.pk: "lost" for delivery in batch if delivery.pk not in mine}
    failed: dict[int, str] = {}
    parsed = []
    for delivery in batch:
        if delivery.pk not in mine:
            continue
        try:
            parsed.append((delivery, _parse(delivery)))
        except PayloadError as exc:
            failed[delivery.pk] = f"invalid payload: {exc}"
        except Exception as exc:
            log.exception("delivery %s failed", delivery.pk)
            failed[delivery.pk] = f"{type(exc).__name__}: {exc}"
    notes: dict[int, list] = {}
    with alerts.batch() as unit:
        routed = [
            (
                delivery,
                unit.route(
                    integration=delivery.integration,
                    alert_events=alert_events,
                    received_at=delivery.received_at,
                ),
            )
            for delivery, alert_events in parsed
        ]
        unit.load({key for _, plan in routed for key in plan.groups})
        for delivery, plan in routed:
            notes[delivery.pk] = unit.apply(plan)
    now = timezone.now()
    AlertDelivery.objects.filter(pk__in=[delivery.pk for delivery, _ in parsed]).update(
        status=DeliveryStatus.PROCESSED, processed_at=now, error=""
    )
    for pk, lines in notes.items():
        if lines:
            AlertDelivery.objects.filter(pk=pk).update(note="\n".join(map(str, lines)))
    for pk, error in failed.items():
        AlertDelivery.objects.filter(pk=pk).update(
            status=DeliveryStatus.FAILED, processed_at=now, error=error[:5000]
        )
        statuses[pk] = DeliveryStatus.FAILED
    for delivery, _ in parsed:
        statuses[delivery.pk] = DeliveryStatus.PROCESSED
    return [statuses[delivery.pk] for delivery in batch]


def _process_one(*, delivery: AlertDelivery, token: str) -> str:
    for attempt in range(3):
        try:
            with transaction.atomic():
                mine = AlertDelivery.objects.filter(
                    pk=delivery.pk, claim_token=token, status=DeliveryStatus.PROCESSING
                ).update(status=DeliveryStatus.PROCESSED, processed_at=timezone.now(), error="")
                if not mine:
                    return "lost"
                notes = alerts.alerts_apply(
                    integration=delivery.integration,
                    alert_events=_parse(delivery),
                    received_at=delivery.received_at,
                )
                if notes:
                    AlertDelivery.objects.filter(pk=delivery.pk).update(note="\n".join(notes))
            return DeliveryStatus.PROCESSED
        except IntegrityError:
            # Another worker opened the same incident a moment ago; the savepoint rolled
            # back, so retrying sees its incident and joins it.
            if attempt == 2:
                raise
        except DatabaseError:
            raise
        except PayloadError as exc:
            return _delivery_fail(delivery=delivery, token=token, error=f"invalid payload: {exc}")
        except Exception as exc:
            log.exception("delivery %s failed", delivery.pk)
            return _delivery_fail(
                delivery=delivery, token=token, error=f"{type(exc).__name__}: {exc}"
            )
    raise AssertionError("unreachable")


def _deliveries_release(*, ids: list[int], token: str) -> None:
    """Hand claimed deliveries back, so the next drain retries them without waiting for the
    claim to expire. Best effort: if the database is still down, the claim expires."""
    try:
        AlertDelivery.objects.filter(
            pk__in=ids, claim_token=token, status=DeliveryStatus.PROCESSING
        ).update(status=DeliveryStatus.PENDING, claim_token="", claimed_at=None)
    except DatabaseError:
        log.warning("could not release %s deliveries; their claims will expire", len(ids))


def _delivery_fail(*, delivery: AlertDelivery, token: str, error: str) -> str:
    AlertDelivery.objects.filter(
        pk=delivery.pk, claim_token=token, status=DeliveryStatus.PROCESSING
    ).update(status=DeliveryStatus.FAILED, processed_at=timezone.now(), error=error[:5000])
    return DeliveryStatus.FAILED


def deliveries_drain(*, max_seconds: float = 20.0) -> int:
    """Process deliveries until none are left or time runs out; returns how many."""
    limit = settings.PAGERLINE_DRAIN_BATCH
    deadline = time.monotonic() + max_seconds
    done = 0
    while time.monotonic() < deadline:
        token, batch = deliveries_claim(limit=limit)
        if not batch:
            # Clear the kick flag, then look once more: a delivery committed before the
            # clear is seen by this look; one committed after it sets the flag and kicks.
            # While we keep finding work the flag stays set, so webhooks send no messages.
            cache.delete(_KICK_KEY)
            token, batch = deliveries_claim(limit=limit)
            if not batch:
                return done
        if len(batch) == limit and cache.add(_FANOUT_KEY, 1, timeout=1):
            # A full batch means a backlog: let another worker process share it.
            current_app.send_task(DRAIN_TASK)
        deliveries_process(batch=batch, token=token)
        done += len(batch)
    current_app.send_task(DRAIN_TASK)
    return done


def deliveries_overdue(*, now: datetime | None = None) -> bool:
    """True when some delivery waited longer than it should have (its kick was lost)."""
    now = now or timezone.now()
    redrive_before = now - timedelta(seconds=settings.PAGERLINE_REDRIVE_AFTER_SECONDS)
    stale_claim = now - timedelta(seconds=settings.PAGERLINE_CLAIM_TIMEOUT_SECONDS)
    return AlertDelivery.objects.filter(
        Q(status=DeliveryStatus.PENDING, received_at__lt=redrive_before)
        | Q(status=DeliveryStatus.PROCESSING, claimed_at__lt=stale_claim)
    ).exists()


def delivery_retry(*, delivery: AlertDelivery) -> None:
    """Put a failed delivery back in the queue (after the bug that failed it is fixed)."""
    AlertDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, claim_token="", claimed_at=None, error=""
    )
    transaction.on_commit(deliveries_kick)
