"""Retention of the delivery inbox: raw webhook bodies are kept
PAGERLINE_DELIVERY_RETENTION_DAYS, then removed by beat in small batches.

What goes: processed deliveries received more than N days ago (and, if they were retried,
retried more than N days ago), and dismissed ones N days after their dismissal. What stays:
pending and processing deliveries (the promise to process them), failed ones nobody has
retried or dismissed yet, and everything the deliveries produced (incidents, alerts,
timelines, drills, reports, metrics): no table references a delivery, so nothing cascades.

Each batch is one short transaction: select up to PAGERLINE_DELIVERY_PURGE_BATCH ids in
primary-key order past the last one removed, then delete those ids, checking the conditions
again. Row locks last for one batch and only on rows intake no longer touches, so webhooks
and workers never wait on the purge for long.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from core.audit import audit_record
from incidents.models import AlertDelivery, DeliveryStatus

log = logging.getLogger(__name__)
# One purge at a time, whatever beat does (a run that overlaps the next fire, two beats).
_LOCK_KEY = "intake:retention-purge"
# How far apart in time two deliveries may be stored in the opposite order of their ids
# (a request stamped received_at, then waited for its insert); far more than a commit takes.
_ID_ORDER_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class PurgeResult:
    deleted: int
    batches: int
    finished: bool  # False: the time budget ran out with expired rows left (next run goes on)


def _expired(cutoff: datetime) -> Q:
    settled_before = Q(settled_at__isnull=True) | Q(settled_at__lt=cutoff)
    return (
        Q(status__in=[DeliveryStatus.PROCESSED, DeliveryStatus.DISMISSED], received_at__lt=cutoff)
        & settled_before
    )


def deliveries_purge(
    *,
    now: datetime | None = None,
    days: int | None = None,
    batch_size: int | None = None,
    max_seconds: float | None = None,
    pause: float = 1.0,
) -> PurgeResult:
    """Remove expired deliveries, a batch per transaction, until none are left or the time
    budget is spent, resting `pause` times each batch's time after it. Idempotent; safe to
    run beside intake and the drain."""
    now = now or timezone.now()
    days = settings.PAGERLINE_DELIVERY_RETENTION_DAYS if days is None else days
    batch_size = batch_size or settings.PAGERLINE_DELIVERY_PURGE_BATCH
    budget = settings.PAGERLINE_DELIVERY_PURGE_SECONDS if max_seconds is None else max_seconds
    cutoff = now - timedelta(days=days)
    expired = _expired(cutoff)
    # Where the id walk stops, found through the received_at index, instead of scanning the
    # young (most) of the table for rows that cannot match: the highest id received in the
    # last minutes before the cutoff. Ids and receipt times are not in the same order (each
    # web process stamps received_at before its insert takes an id), so the newest expired
    # row need not have the highest expired id.
    newest = (
        AlertDelivery.objects.filter(received_at__lt=cutoff)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    if newest is None:
        return PurgeResult(0, 0, True)
    last_id = AlertDelivery.objects.filter(
        received_at__lt=cutoff, received_at__gte=newest - _ID_ORDER_SKEW
    ).aggregate(last=Max("id"))["last"]
    deadline = time.monotonic() + budget
    after, deleted, batches = 0, 0, 0
    while True:
        began = time.monotonic()
        with transaction.atomic():
            ids = list(
                AlertDelivery.objects.filter(expired, id__gt=after, id__lte=last_id)
                .order_by("id")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                return PurgeResult(deleted, batches, True)
            # The conditions again: a row retried since the select is not removed.
            count, _ = AlertDelivery.objects.filter(expired, id__in=ids).delete()
        deleted += count
        batches += 1
        after = ids[-1]
        if time.monotonic() >= deadline:
            return PurgeResult(deleted, batches, len(ids) < batch_size)
        # Rest as long as the batch took: on a busy database the purge takes at most about
        # half of one connection's time, leaving CPU and I/O to intake (bench/retention.py:
        # without the pause a purge at full speed cost a 2-core machine's intake 1.6x its
        # p99). Half speed is still ~10,000 rows/s there, 10 times 1,000 alerts/s.
        time.sleep(min(pause * (time.monotonic() - began), max(0.0, deadline - time.monotonic())))


def deliveries_purge_once() -> PurgeResult | None:
    """The beat entry: one purge at a time (None when another is running)."""
    budget = settings.PAGERLINE_DELIVERY_PURGE_SECONDS
    if not cache.add(_LOCK_KEY, 1, timeout=budget + 60):
        return None
    try:
        result = deliveries_purge()
    finally:
        cache.delete(_LOCK_KEY)
    if result.deleted:
        log.info(
            "retention: removed %d deliveries in %d batches%s",
            result.deleted,
            result.batches,
            "" if result.finished else " (time budget spent, more left)",
        )
    return result


@transaction.atomic
def delivery_dismiss(*, delivery: AlertDelivery, actor) -> bool:
    """A manager decides a failed delivery needs no retry: it leaves the failed list and is
    removed PAGERLINE_DELIVERY_RETENTION_DAYS later. False when it was no longer failed."""
    changed = AlertDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.DISMISSED, claim_token="", claimed_at=None, settled_at=timezone.now()
    )
    if changed:
        integration = delivery.integration
        audit_record(
            actor=actor,
            action="delivery.dismissed",
            obj=delivery,
            team_id=integration.service.team_id,
            summary=f"failed delivery {delivery.pk} of integration {integration.name!r} "
            f"dismissed (error: {delivery.error[:200]})",
        )
    return bool(changed)
