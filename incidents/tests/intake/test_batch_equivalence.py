"""The worker applies a claimed batch of deliveries in memory and writes it in bulk. Whatever
the batch boundaries, the result must be exactly what applying the deliveries one at a
time gives: same incidents, same timelines, same alerts, same notes.

Each case replays one random sequence of Alertmanager snapshots and PagerDuty events
(fire, resolve, re-fire, acknowledge, unknown keys, future start times, truncation, late
stale snapshots, a reopen window) into two services: one delivery per batch on the first,
random batch sizes (or everything in one batch) on the second, then compares them.
"""

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from incidents.intake import apply, drain, store
from incidents.models import (
    Alert,
    AlertDelivery,
    Incident,
    IncidentEscalation,
    IncidentEvent,
    Service,
)
from incidents.tests.factories import make_integration, make_policy, make_service
from tests.support import am_alert, am_payload

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _scenario(rng: random.Random) -> list[tuple[str, dict, datetime]]:
    """(source, body, received_at) in arrival order."""
    deliveries = []
    clock = T0
    for _ in range(rng.randint(15, 40)):
        clock += timedelta(seconds=rng.choice([1, 5, 30, 120, 400]))
        # Now and then a delivery that was received earlier is stored later (a retry).
        received = (
            clock - timedelta(seconds=rng.choice([200, 900])) if rng.random() < 0.1 else clock
        )
        if rng.random() < 0.65:
            group = rng.choice(["g1", "g2"])
            alerts = []
            for fingerprint in rng.sample(["a", "b", "c"], rng.randint(1, 3)):
                status = "firing" if rng.random() < 0.6 else "resolved"
                starts = received - timedelta(minutes=rng.randint(0, 10))
                if rng.random() < 0.1:
                    starts = received + timedelta(minutes=5)  # a sender clock ahead of ours
                alerts.append(
                    am_alert(
                        status=status,
                        fingerprint=f"{group}-{fingerprint}",
                        starts_at=_iso(starts),
                        ends_at=_iso(received) if status == "resolved" else "0001-01-01T00:00:00Z",
                        severity=rng.choice(["critical", "warning"]),
                        instance=fingerprint,
                    )
                )
            truncated = rng.choice([0, 0, 0, 2, 3])
            body = am_payload(*alerts, group_key=f'{{}}:{{g="{group}"}}', truncated=truncated)
            deliveries.append(("alertmanager", body, received))
        else:
            body = {
                "routing_key": "ignored-here",
                "event_action": rng.choice(["trigger", "trigger", "acknowledge", "resolve"]),
                "dedup_key": rng.choice(["disk-1", "disk-2", "never-triggered"]),
                "payload": {
                    "summary": "Disk almost full",
                    "source": "db-1",
                    "severity": rng.choice(["critical", "error", "warning"]),
                },
            }
            deliveries.append(("pagerduty", body, received))
    return deliveries


def _integrations(service: Service, reopen_window: int) -> dict:
    made = {}
    for source in ("alertmanager", "pagerduty"):
        integration, _ = make_integration(service, source=source)
        integration.reopen_window_seconds = reopen_window
        integration.save(update_fields=["reopen_window_seconds"])
        made[source] = integration
    return made


def _accept(integrations: dict, scenario) -> None:
    for source, body, received in scenario:
        store.delivery_accept(
            integration=integrations[source], body=json.dumps(body), received_at=received
        )


def _process_in_batches(sizes: list[int]) -> None:
    for size in sizes:
        token, batch = drain.deliveries_claim(limit=size)
        assert batch
        drain.deliveries_process(batch=batch, token=token)


def _state(service: Service) -> dict:
    """Everything a user can see of the service's incidents, with ids made relative."""
    incidents = list(Incident.objects.filter(service=service).order_by("pk"))
    ordinal = {incident.pk: n for n, incident in enumerate(incidents)}
    rows = []
    for incident in incidents:
        timeline = [
            (e.seq, e.kind, e.at, e.actor_label, json.dumps(e.data, sort_keys=True))
            for e in IncidentEvent.objects.filter(incident=incident).order_by("seq")
        ]
        alerts = [
            (
                a.fingerprint,
                a.status,
                a.title,
                a.severity,
                a.fire_count,
                a.starts_at,
                a.ends_at,
                a.first_received_at,
                a.last_received_at,
                json.dumps([a.labels, a.annotations, a.links], sort_keys=True),
            )
            for a in Alert.objects.filter(incident=incident).order_by("fingerprint")
        ]
        projection = (
            incident.dedup_key,
            incident.status,
            incident.title,
            incident.severity,
            incident.detected_at,
            incident.impact_started_at,
            incident.acknowledged_at,
            incident.resolved_at,
            incident.last_seq,
            incident.updated_at,
        )
        escalation = (
            IncidentEscalation.objects.filter(incident=incident)
            .values_list("state", "step_index", "round", "next_fire_at", "policy_id", "snapshot")
            .first()
        )
        rows.append((projection, timeline, alerts, escalation))
    notes = [
        # Notes name incidents by id: make those relative too.
        _relative_note(d.note, ordinal)
        for d in AlertDelivery.objects.filter(integration__service=service).order_by("pk")
    ]
    statuses = list(
        AlertDelivery.objects.filter(integration__service=service)
        .order_by("pk")
        .values_list("status", flat=True)
    )
    return {"incidents": rows, "notes": notes, "statuses": statuses}


def _relative_note(note: str, ordinal: dict[int, int]) -> str:
    for pk, n in ordinal.items():
        note = note.replace(f"#{pk} ", f"#<{n}> ").replace(f"#{pk};", f"#<{n}>;")
    return note


@pytest.mark.parametrize("seed", range(16))
def test_a_batch_gives_what_one_delivery_at_a_time_gives(team, users, seed, caplog):
    rng = random.Random(seed)
    scenario = _scenario(rng)
    reopen_window = rng.choice([0, 600])
    # Half the cases page someone: escalation starts and stops follow the events.
    policy = make_policy(team, (300, [users["responder"]])) if seed % 4 < 2 else None
    one_by_one = make_service(team, "one-by-one", "One by one", escalation_policy=policy)
    batched = make_service(team, "batched", "Batched", escalation_policy=policy)

    single = _integrations(one_by_one, reopen_window)
    for source, body, received in scenario:
        _accept(single, [(source, body, received)])
        _process_in_batches([1])

    _accept(_integrations(batched, reopen_window), scenario)
    if seed % 2:
        sizes = [len(scenario)]
    else:
        sizes = []
        left = len(scenario)
        while left:
            sizes.append(min(left, rng.randint(2, 9)))
            left -= sizes[-1]
    _process_in_batches(sizes)

    # Batches were applied together, not redone one by one after an error.
    assert "one by one" not in caplog.text
    expected, got = _state(one_by_one), _state(batched)
    assert expected["statuses"] == got["statuses"]
    assert expected["notes"] == got["notes"]
    assert len(expected["incidents"]) == len(got["incidents"])
    for want, have in zip(expected["incidents"], got["incidents"], strict=True):
        assert want == have
    # The scenario exercised something: incidents were opened (and, with a policy, paged).
    assert expected["incidents"]
    if policy is not None:
        assert all(escalation is not None for *_, escalation in expected["incidents"])


def test_a_delivery_that_breaks_while_applied_fails_alone(integration, monkeypatch):
    """A bug met while applying one delivery of a batch (here injected for one key) rolls
    the batch back; it is redone one delivery at a time, so only that one fails."""
    record, _ = integration
    apply_group = apply.Batch.apply_group

    def broken_for_one_key(self, *, key, **kwargs):
        if "boom" in key:
            raise RuntimeError("a bug met while applying")
        return apply_group(self, key=key, **kwargs)

    monkeypatch.setattr(apply.Batch, "apply_group", broken_for_one_key)
    for group in ("before", "boom", "after"):
        body = am_payload(am_alert(fingerprint=group), group_key=f'{{}}:{{g="{group}"}}')
        store.delivery_accept(integration=record, body=json.dumps(body), received_at=T0)
    token, batch = drain.deliveries_claim(limit=10)
    assert len(batch) == 3
    assert drain.deliveries_process(batch=batch, token=token) == [
        "processed",
        "failed",
        "processed",
    ]
    failed = AlertDelivery.objects.get(status="failed")
    assert "RuntimeError: a bug met while applying" in failed.error
    assert sorted(Incident.objects.values_list("dedup_key", flat=True)) == [
        '{}:{g="after"}',
        '{}:{g="before"}',
    ]
    assert IncidentEvent.objects.count() == 4  # triggered + alert_fired, twice, once each


def test_an_incident_opened_resolved_and_reopened_in_one_batch_escalates_once(
    integration, team, users, caplog
):
    record, _ = integration
    record.reopen_window_seconds = 600
    record.save(update_fields=["reopen_window_seconds"])
    record.service.escalation_policy = make_policy(team, (300, [users["responder"]]))
    record.service.save(update_fields=["escalation_policy"])
    firing = am_payload(am_alert(fingerprint="a"))
    resolved = am_payload(am_alert(fingerprint="a", status="resolved", ends_at=_iso(T0)))
    for minute, body in enumerate([firing, resolved, firing]):
        store.delivery_accept(
            integration=record, body=json.dumps(body), received_at=T0 + timedelta(minutes=minute)
        )
    token, batch = drain.deliveries_claim(limit=10)
    assert drain.deliveries_process(batch=batch, token=token) == ["processed"] * 3
    assert "one by one" not in caplog.text
    incident = Incident.objects.get()
    assert [e.kind for e in incident.events.all()] == [
        "triggered",
        "alert_fired",
        "alert_resolved",
        "resolved",
        "reopened",
        "alert_fired",
    ]
    escalation = IncidentEscalation.objects.get(incident=incident)
    assert escalation.state == "active"
    assert escalation.started_at == T0 + timedelta(minutes=2)  # restarted by the reopen
    assert escalation.next_fire_at == T0 + timedelta(minutes=7)
