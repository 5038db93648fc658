"""Apply parsed alert events to incidents: routing, dedup, lifecycle, heartbeats.

Called by the delivery processor inside the delivery's transaction, so everything here
happens exactly once per accepted delivery. The rules are written down in docs/alerts.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db.models import Max, Q

from incidents.alerts import AlertEvent, AlertStatus, Severity
from incidents.intake import routing
from incidents.models import (
    OPEN_STATUSES,
    Alert,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Integration,
    RoutingRule,
    Service,
)
from incidents.timeline import actions, events

_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}
# A fingerprint that fired this many times inside one incident is flapping.
FLAPPING_AFTER = 3


def alerts_apply(
    *, integration: Integration, alert_events: list[AlertEvent], received_at: datetime
) -> list[str]:
    """Fold one delivery's alert events into incidents; safe with a repeated snapshot.

    Returns notes about events that were recorded but changed nothing (e.g. a resolve for
    a key with no open incident); the caller keeps them on the delivery. The worker applies
    many deliveries in one `batch()`; this is a batch of one.
    """
    with batch() as unit:
        notes = unit.apply(
            unit.route(integration=integration, alert_events=alert_events, received_at=received_at)
        )
    return [str(note) for note in notes]


@dataclass
class Routed:
    """One delivery's alert events, grouped by the (service id, incident key) they go to;
    each event carries whether routing rules existed and none matched."""

    integration: Integration
    received_at: datetime
    heartbeat: bool
    groups: dict[tuple[int, str], list[tuple[AlertEvent, bool]]]


@dataclass(frozen=True)
class Closed:
    """The last resolved incident of a key (the object itself when this batch holds it)."""

    pk: int | None
    resolved_at: datetime
    incident: Incident | None = None

    @property
    def number(self) -> int | None:
        """Its id; one this batch opened and resolved has it once the batch is written."""
        return self.incident.pk if self.incident is not None else self.pk


@dataclass(frozen=True)
class Note:
    """A note for a delivery that names an incident: rendered (str) after the batch is
    written, when every incident has its id."""

    before: str
    incident: Closed
    after: str

    def __str__(self) -> str:
        return f"{self.before}#{self.incident.number}{self.after}"


@contextmanager
def batch() -> Iterator[Batch]:
    """Apply deliveries in memory, then write them with a few bulk statements (in the
    caller's transaction) and run the escalation hooks of what happened, in order."""
    with events.buffered() as buffer:
        unit = Batch(buffer)
        yield unit
        unit.write()
    buffer.run_hooks()


class Batch:
    """A batch's view of incidents and alerts: each is loaded (and an open incident locked)
    once, changed in memory as deliveries are applied in order, and written by `write`.
    A later delivery of the batch sees what an earlier one did, as it would row by row."""

    def __init__(self, buffer: events.Buffer) -> None:
        self.buffer = buffer
        self._rules: dict[int, list[tuple[list, int]]] = {}
        self._services: dict[int, Service] = {}
        self._loaded: set[tuple[int, str]] = set()
        # The newest incident this batch knows for a key: open (and locked), or resolved.
        self._current: dict[tuple[int, str], Incident] = {}
        self._closed: dict[tuple[int, str], Closed] = {}
        self._by_pk: dict[int, Incident] = {}
        self._alerts: dict[int, dict[str, Alert]] = {}  # by id(incident)
        self._new_alerts: list[Alert] = []
        self._changed_alerts: dict[int, Alert] = {}
        self._alert_fields: set[str] = set()

    # --- routing and loading ---

    def route(
        self, *, integration: Integration, alert_events: list[AlertEvent], received_at: datetime
    ) -> Routed:
        if integration.pk not in self._rules:
            self._rules[integration.pk] = _rules(integration)
        rules = self._rules[integration.pk]
        self._services.setdefault(integration.service_id, integration.service)
        groups: dict[tuple[int, str], list[tuple[AlertEvent, bool]]] = defaultdict(list)
        for alert_event in alert_events:
            if alert_event.heartbeat:
                continue
            routed = routing.route(rules, alert_event.labels) if rules else None
            service_id = routed or integration.service_id
            groups[(service_id, alert_event.incident_key)].append(
                (alert_event, bool(rules) and not routed)
            )
        missing = {service_id for service_id, _ in groups} - self._services.keys()
        if missing:
            self._services.update(Service.objects.in_bulk(missing))
        heartbeat = any(e.heartbeat for e in alert_events)
        return Routed(integration, received_at, heartbeat, dict(groups))

    def load(self, keys: set[tuple[int, str]]) -> None:
        """Lock the open incidents of these keys (in id order, like every other worker),
        and read their alerts and each other key's last resolved incident: four queries."""
        keys = keys - self._loaded
        if not keys:
            return
        self._loaded |= keys
        service_ids = {service_id for service_id, _ in keys}
        names = {key for _, key in keys}
        candidates = Incident.objects.filter(service_id__in=service_ids, dedup_key__in=names)
        opened = [
            incident
            for incident in candidates.filter(status__in=OPEN_STATUSES)
            .select_for_update()
            .order_by("pk")
            if (incident.service_id, incident.dedup_key) in keys
        ]
        for incident in opened:
            self._adopt(incident)
        alerts = Alert.objects.filter(incident_id__in=[i.pk for i in opened]).order_by("pk")
        for alert in alerts:
            self._alerts[id(self._by_pk[alert.incident_id])][alert.fingerprint] = alert
        # Each other key's last resolved incident: the latest time per key first, then the
        # incidents at those times (a key may have thousands of resolved incidents).
        shut = keys - {(i.service_id, i.dedup_key) for i in opened}
        if not shut:
            return
        resolved = Incident.objects.filter(
            service_id__in={service_id for service_id, _ in shut},
            dedup_key__in={key for _, key in shut},
            status=IncidentStatus.RESOLVED,
        )
        latest = {
            (row["service_id"], row["dedup_key"]): row["last"]
            for row in resolved.values("service_id", "dedup_key").annotate(last=Max("resolved_at"))
        }
        if not latest:
            return
        closed = resolved.filter(resolved_at__in=set(latest.values())).values_list(
            "pk", "service_id", "dedup_key", "resolved_at"
        )
        for pk, service_id, key, resolved_at in closed:
            known = self._closed.get((service_id, key))
            if (
                (service_id, key) in shut
                and resolved_at == latest.get((service_id, key))
                and (known is None or pk > known.pk)
            ):
                self._closed[(service_id, key)] = Closed(pk, resolved_at)

    def _adopt(self, incident: Incident) -> Incident:
        if incident.service_id in self._services:
            incident.service = self._services[incident.service_id]
        self._current[(incident.service_id, incident.dedup_key)] = incident
        self._by_pk[incident.pk] = incident
        self._alerts.setdefault(id(incident), {})
        return incident

    # --- what applying reads ---

    def open_incident(self, service: Service, key: str) -> Incident | None:
        self.load({(service.pk, key)})
        incident = self._current.get((service.pk, key))
        return incident if incident is not None and incident.status in OPEN_STATUSES else None

    def last_closed(self, service: Service, key: str) -> Closed | None:
        incident = self._current.get((service.pk, key))
        if incident is not None and incident.status == IncidentStatus.RESOLVED:
            return Closed(incident.pk, incident.resolved_at, incident)
        return self._closed.get((service.pk, key))

    def lock(self, closed: Closed) -> Incident:
        """The resolved incident itself, locked, to reopen it or to note an ignored action."""
        if closed.incident is not None:
            return closed.incident
        if closed.pk in self._by_pk:
            return self._by_pk[closed.pk]
        incident = self._adopt(Incident.objects.select_for_update().get(pk=closed.pk))
        self._alerts[id(incident)] = {a.fingerprint: a for a in incident.alerts.order_by("pk")}
        return incident

    def opened(self, incident: Incident) -> None:
        self._current[(incident.service_id, incident.dedup_key)] = incident
        self._alerts.setdefault(id(incident), {})

    def alerts_of(self, incident: Incident) -> dict[str, Alert]:
        return self._alerts[id(incident)]

    def last_truncation(self, incident: Incident) -> int | None:
        for event in self.buffer.events_of(incident):
            if event.kind == EventKind.SENDER_TRUNCATED:
                return event.data["count"]
        return _last_truncation(incident) if incident.pk is not None else None

    # --- what applying writes ---

    def alert_added(self, alert: Alert) -> None:
        self._new_alerts.append(alert)
        self._alerts[id(alert.incident)][alert.fingerprint] = alert

    def alert_changed(self, alert: Alert, fields: list[str]) -> None:
        if alert.pk is not None:  # a new one is inserted with its latest values
            self._changed_alerts[alert.pk] = alert
            self._alert_fields.update(fields)

    def write(self) -> None:
        self.buffer.write()
        if self._new_alerts:
            Alert.objects.bulk_create(self._new_alerts)
        if self._changed_alerts:
            Alert.objects.bulk_update(
                list(self._changed_alerts.values()), sorted(self._alert_fields)
            )

    # --- applying ---

    def apply(self, routed: Routed) -> list[str | Note]:
        """Apply one routed delivery; returns its notes (str() them once written)."""
        integration = routed.integration
        if routed.heartbeat:
            integration_heartbeat(integration=integration, at=routed.received_at)
        notes: list[str | Note] = []
        for (service_id, key), items in routed.groups.items():
            notes += self.apply_group(
                service=self._services[service_id],
                key=key,
                items=items,
                received_at=routed.received_at,
                reopen_window=timedelta(seconds=integration.reopen_window_seconds),
            )
        return notes

    def apply_group(
        self,
        *,
        service: Service,
        key: str,
        items: list[tuple[AlertEvent, bool]],
        received_at: datetime,
        reopen_window: timedelta,
    ) -> list[str | Note]:
        group = [alert_event for alert_event, _ in items]
        source = group[0].source
        incident = self.open_incident(service, key)
        opened = incident is None
        firing = [e for e in group if e.status == AlertStatus.FIRING]
        if incident is None:
            last = self.last_closed(service, key)
            if last is not None and last.resolved_at > received_at:
                # A snapshot received before the resolution already applied: stale.
                return [Note(f"{key}: older than the resolution of incident ", last, "; ignored")]
            if not firing:
                return self._closed_key_actions(group=group, last=last, key=key, at=received_at)
            if (
                last is not None
                and reopen_window
                and received_at - last.resolved_at <= reopen_window
            ):
                incident = self.lock(last)
                events.incident_reopened(
                    incident=incident,
                    at=received_at,
                    reason=f"fired again within the reopen window ({reopen_window})",
                    actor_label=source,
                )
            else:
                worst = min(firing, key=lambda e: _SEVERITY_RANK[e.severity])
                incident = events.incident_triggered(
                    service=service,
                    dedup_key=key,
                    title=firing[0].title,
                    severity=worst.severity,
                    at=received_at,
                    source=source,
                )
            self.opened(incident)
        alerts = self.alerts_of(incident)
        for alert_event, unrouted in items:
            self._apply_alert(
                incident=incident, alerts=alerts, alert_event=alert_event, at=received_at
            )
            if unrouted and alert_event.status == AlertStatus.FIRING:
                events.unrouted(
                    incident=incident,
                    fingerprint=alert_event.fingerprint,
                    at=received_at,
                    source=source,
                )
        truncated = max(e.group_truncated for e in group)
        if truncated and self.last_truncation(incident) != truncated:
            events.sender_truncated(
                incident=incident, count=truncated, at=received_at, source=source
            )
        for alert_event in group:
            # A create's note goes with the alert it opens, not with its repeats (Opsgenie's
            # dedup); the same note twice is one note (a delivery processed twice, rule 5).
            if alert_event.note and (opened or alert_event.status != AlertStatus.FIRING):
                self._note(incident, alert_event.note, at=received_at, source=source)
        acknowledged = any(e.status == AlertStatus.ACKNOWLEDGED for e in group)
        if acknowledged and incident.status == IncidentStatus.TRIGGERED:
            # The same rule as a responder's acknowledge (one function for UI, API, sources).
            actions.incident_acknowledge(incident=incident, actor_label=source, at=received_at)
        if alerts and all(a.status == AlertStatus.RESOLVED for a in alerts.values()):
            events.incident_resolved(
                incident=incident, at=received_at, reason="all alerts resolved", actor_label=source
            )
        return []

    def _note(self, incident: Incident, text: str, *, at: datetime, source: str) -> None:
        if (
            incident.pk is None
            or not IncidentEvent.objects.filter(
                incident=incident, kind=EventKind.NOTE, data__text=text
            ).exists()
        ):
            events.note_added(incident=incident, at=at, text=text, actor_label=source)

    def _apply_alert(
        self, *, incident: Incident, alerts: dict[str, Alert], alert_event: AlertEvent, at: datetime
    ) -> None:
        if alert_event.status in (AlertStatus.ACKNOWLEDGED, AlertStatus.NOTE):
            # acknowledges the incident or adds a note (see apply_group); the alert keeps firing
            return
        alert = alerts.get(alert_event.fingerprint)
        if alert is not None and alert.last_received_at > at:
            return  # a stale snapshot delivered late: newer state is already applied
        firing = alert_event.status == AlertStatus.FIRING
        starts_at = alert_event.starts_at
        if starts_at and starts_at > at:
            # A sender's clock ahead of ours must not lose or distort the page: clamp, say so.
            events.clock_skew(
                incident=incident,
                fingerprint=alert_event.fingerprint,
                reported=starts_at,
                at=at,
                source=alert_event.source,
            )
            starts_at = at
            alert_event = replace(alert_event, starts_at=at)
        if alert is None:
            if not firing:
                return  # resolved before we ever saw it fire: nothing to close
            self.alert_added(
                Alert(
                    incident=incident,
                    fingerprint=alert_event.fingerprint,
                    status=AlertStatus.FIRING,
                    title=alert_event.title,
                    severity=alert_event.severity,
                    labels=alert_event.labels,
                    annotations=alert_event.annotations,
                    links=[{"href": link.href, "text": link.text} for link in alert_event.links],
                    starts_at=starts_at,
                    ends_at=None,
                    first_received_at=at,
                    last_received_at=at,
                )
            )
            events.alert_fired(incident=incident, alert=alert_event, at=at, refire=False)
            return
        changed = ["last_received_at"]
        alert.last_received_at = at
        if firing and alert.status != AlertStatus.FIRING:
            alert.status = AlertStatus.FIRING
            alert.fire_count += 1
            alert.ends_at = None
            changed += ["status", "fire_count", "ends_at"]
            events.alert_fired(
                incident=incident,
                alert=alert_event,
                at=at,
                refire=True,
                fire_count=alert.fire_count,
                flapping=alert.fire_count >= FLAPPING_AFTER,
            )
        elif not firing and alert.status == AlertStatus.FIRING:
            alert.status = AlertStatus.RESOLVED
            alert.ends_at = alert_event.ends_at or at
            changed += ["status", "ends_at"]
            events.alert_resolved(incident=incident, alert=alert_event, at=at)
        self.alert_changed(alert, changed)

    def _closed_key_actions(
        self, *, group: list[AlertEvent], last: Closed | None, key: str, at: datetime
    ) -> list[str | Note]:
        """Acknowledge / resolve for a key with no open incident: recorded, then ignored."""
        notes: list[str | Note] = []
        for alert_event in group:
            action = _ACTION_NAMES.get(alert_event.status, "resolve")
            if last is None:
                notes.append(f"{action} for unknown key {key!r} ignored: no incident")
                continue
            notes.append(Note(f"{action} for key {key!r} ignored: incident ", last, " is resolved"))
            if alert_event.status == AlertStatus.ACKNOWLEDGED:
                events.source_action_ignored(
                    incident=self.lock(last),
                    action=action,
                    reason="the incident is already resolved",
                    at=at,
                    source=alert_event.source,
                )
        return notes


_ACTION_NAMES = {AlertStatus.ACKNOWLEDGED: "acknowledge", AlertStatus.NOTE: "note"}


def _rules(integration: Integration) -> list[tuple[list, int]]:
    return [
        (rule.matchers, rule.service_id)
        for rule in RoutingRule.objects.filter(integration=integration).order_by("position", "id")
    ]


def _last_truncation(incident: Incident) -> int | None:
    last = (
        IncidentEvent.objects.filter(incident=incident, kind=EventKind.SENDER_TRUNCATED)
        .order_by("-seq")
        .values_list("data", flat=True)
        .first()
    )
    return last["count"] if last else None


def integration_heartbeat(*, integration: Integration, at: datetime) -> None:
    """Record that the integration's monitoring is alive (Watchdog alert or ping)."""
    Integration.objects.filter(pk=integration.pk).filter(
        Q(last_heartbeat_at__isnull=True) | Q(last_heartbeat_at__lt=at)
    ).update(last_heartbeat_at=at)
