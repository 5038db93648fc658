"""Draining stored deliveries in a Celery worker: claim a batch (SKIP LOCKED), parse each
body with its source's parser, apply the alert events (incidents.intake.apply) in one
transaction, and mark the deliveries processed or failed. Safe to run twice and in any
number of workers; a claim of a dead worker expires (PAGERLINE_CLAIM_TIMEOUT_SECONDS), and
a worker whose batch fails in the database (a restart, a failover) hands its claim back as
soon as the database answers again."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import (
    DatabaseError,
    IntegrityError,
    connections,
    router,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone

from incidents import counters, task_names
from incidents.alerts import AlertEvent, PayloadError
from incidents.intake import apply, sources
from incidents.intake.kick import _KICK_KEY, deliveries_kick
from incidents.models import (
    AlertDelivery,
    DeliveryStatus,
)

log = logging.getLogger(__name__)
_FANOUT_KEY = "intake:drain-fanout"


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
    try:
        batch = list(
            AlertDelivery.objects.filter(claim_token=token, status=DeliveryStatus.PROCESSING)
            .select_related("integration__service")
            .order_by("id")
        )
    except DatabaseError:  # claimed, but the connection was lost before we read the batch
        _deliveries_release(ids=ids, token=token, claimed_at=now)
        raise
    return token, batch


def delivery_process(*, delivery: AlertDelivery, token: str) -> str:
    """Apply one claimed delivery exactly once, in its own transaction; returns its status."""
    return deliveries_process(batch=[delivery], token=token)[0]


def deliveries_process(*, batch: list[AlertDelivery], token: str) -> list[str]:
    """Apply a claimed batch in ONE transaction (one commit, one fsync per batch): every
    delivery is parsed, then applied in order in memory, then written with a few bulk
    statements (`apply.batch`).

    Marking a delivery processed happens in the same transaction as its effects, only for
    deliveries still claimed by us: a worker killed half-way leaves nothing behind, and a
    worker whose claim was taken over does nothing. If applying raises something
    unexpected (a bug), the batch is rolled back and redone one delivery at a time, each
    in its own savepoint, so that a bad delivery fails alone. If the database fails the
    batch (a deadlock, a restart, a failover), every delivery is handed back for the next
    drain, as soon as the database answers again (`_deliveries_release`), and the error
    is raised.
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
            statuses = [_process_one(delivery=delivery, token=token) for delivery in batch]
            _count(batch=batch, statuses=statuses, now=timezone.now())
            return statuses
    except DatabaseError:
        log.warning(
            "a batch of %s deliveries failed in the database; handing them back", len(batch)
        )
        claimed_at = min((d.claimed_at for d in batch if d.claimed_at), default=None)
        _deliveries_release(ids=[d.pk for d in batch], token=token, claimed_at=claimed_at)
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
    with apply.batch() as unit:
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
    ordered = [statuses[delivery.pk] for delivery in batch]
    _count(batch=batch, statuses=ordered, now=now)
    return ordered


def _count(*, batch: list[AlertDelivery], statuses: list[str], now: datetime) -> None:
    """Add what this batch settled to the /metrics counters, in its transaction (last, as
    counters_add wants). A delivery is received once: one that was retried (settled_at set)
    was counted when it first failed; every failure counts, and the ingest latency is that
    of deliveries processed at their first settling."""
    increments: Counter[tuple[str, str]] = Counter()
    latencies = []
    for delivery, status in zip(batch, statuses, strict=True):
        if status not in (DeliveryStatus.PROCESSED, DeliveryStatus.FAILED):
            continue  # lost: another worker settles it
        source = delivery.integration.source
        if status == DeliveryStatus.FAILED:
            increments[(counters.DELIVERIES_FAILED, source)] += 1
        if delivery.settled_at is None:
            increments[(counters.DELIVERIES_RECEIVED, source)] += 1
            if status == DeliveryStatus.PROCESSED:
                latencies.append((now - delivery.received_at).total_seconds())
    increments.update(counters.latency_increments(latencies))
    counters.counters_add(increments=increments)


def _process_one(*, delivery: AlertDelivery, token: str) -> str:
    for attempt in range(3):
        try:
            with transaction.atomic():
                mine = AlertDelivery.objects.filter(
                    pk=delivery.pk, claim_token=token, status=DeliveryStatus.PROCESSING
                ).update(status=DeliveryStatus.PROCESSED, processed_at=timezone.now(), error="")
                if not mine:
                    return "lost"
                notes = apply.alerts_apply(
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


def _deliveries_release(*, ids: list[int], token: str, claimed_at: datetime | None) -> bool:
    """Hand claimed deliveries back (pending again), so the next drain retries them at once
    instead of after the claim timeout. Only rows still claimed with `token` are touched:
    a claim another worker has since taken over is left alone, and a batch whose commit
    reached the server before the connection dropped stays processed.

    If the connection was lost (a restart, a failover), reconnect and try again, with a
    short backoff, until the claim would have expired anyway (`claimed_at` +
    PAGERLINE_CLAIM_TIMEOUT_SECONDS); then the claim simply expires. True if handed back.
    """
    connection = connections[router.db_for_write(AlertDelivery)]
    timeout = timedelta(seconds=settings.PAGERLINE_CLAIM_TIMEOUT_SECONDS)
    expires = (claimed_at or timezone.now()) + timeout
    pause = _RELEASE_FIRST_PAUSE
    while True:
        try:
            released = AlertDelivery.objects.filter(
                pk__in=ids, claim_token=token, status=DeliveryStatus.PROCESSING
            ).update(status=DeliveryStatus.PENDING, claim_token="", claimed_at=None)
        except DatabaseError:
            # Inside a transaction the caller's transaction is lost anyway: one try only.
            if connection.in_atomic_block or timezone.now() + timedelta(seconds=pause) >= expires:
                log.warning(
                    "could not hand back %s deliveries; their claim expires at %s",
                    len(ids),
                    expires.isoformat(timespec="seconds"),
                )
                return False
            connection.close()  # a lost connection is reopened by the next query
            time.sleep(pause)
            pause = min(pause * 2, _RELEASE_MAX_PAUSE)
            continue
        log.warning("handed back %s of %s claimed deliveries", released, len(ids))
        return True


_RELEASE_FIRST_PAUSE = 0.2
_RELEASE_MAX_PAUSE = 2.0


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
            current_app.send_task(task_names.DRAIN_DELIVERIES)
        try:
            deliveries_process(batch=batch, token=token)
        except DatabaseError:
            # The batch was handed back: drain it again now, not at the next beat re-drive.
            current_app.send_task(task_names.DRAIN_DELIVERIES, countdown=1)
            raise
        done += len(batch)
    current_app.send_task(task_names.DRAIN_DELIVERIES)
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
    # settled_at: retention counts from the retry, not from the (maybe long past) receipt.
    AlertDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING,
        claim_token="",
        claimed_at=None,
        error="",
        settled_at=timezone.now(),
    )
    transaction.on_commit(deliveries_kick)
