"""Replay every incident's timeline and compare the result with its row.

`--check` reports each incident whose row differs from its events, field by field, and
exits non-zero; without it the rows are repaired (the row is a projection, not history,
so rewriting it is allowed; the events are never touched)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch

from incidents.models import Incident, IncidentEvent
from incidents.timeline import projection


def differences(
    row: projection.IncidentState, replayed: projection.IncidentState
) -> list[tuple[str, object, object]]:
    return [
        (name, getattr(row, name), getattr(replayed, name))
        for name in projection.FIELDS
        if getattr(row, name) != getattr(replayed, name)
    ]


class Command(BaseCommand):
    help = "Rebuild incident rows from their timelines (--check: only report differences)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="report differences and exit 1, change nothing"
        )
        parser.add_argument("--chunk-size", type=int, default=500)
        parser.add_argument(
            "--progress-every", type=int, default=1000, help="a progress line every N incidents"
        )

    def handle(self, *args, check: bool, chunk_size: int, progress_every: int, **options):
        total = Incident.objects.count()
        seen = differing = repaired = 0
        failures: list[str] = []
        for chunk in self._chunks(chunk_size):
            for incident in chunk:
                seen += 1
                if progress_every and seen % progress_every == 0:
                    self.stderr.write(f"{seen}/{total} incidents replayed")
                replayed = projection.replay(incident.events.all())
                diffs = differences(projection.state_of(incident), replayed)
                if not diffs:
                    continue
                differing += 1
                self._report(incident, diffs)
                if not replayed.last_seq:
                    failures.append(f"incident #{incident.pk} has no events; cannot rebuild it")
                elif not check:
                    problem = self._repair(incident.pk)
                    if problem:
                        failures.append(problem)
                    else:
                        repaired += 1
        if progress_every:
            self.stderr.write(f"{seen}/{total} incidents replayed, done")
        for failure in failures:
            self.stdout.write(self.style.ERROR(failure))
        summary = f"{seen} incidents replayed, {differing} differed from their events"
        if not check:
            summary += f", {repaired} repaired"
        self.stdout.write(summary)
        if failures or (check and differing):
            raise CommandError(
                f"{differing} incident rows differ from their events"
                if check
                else f"{len(failures)} incidents could not be rebuilt"
            )

    def _chunks(self, size: int):
        """Incidents in id order, `size` at a time, each with its events in order."""
        events = Prefetch("events", queryset=IncidentEvent.objects.order_by("seq"))
        last = 0
        while True:
            chunk = list(
                Incident.objects.filter(pk__gt=last).order_by("pk").prefetch_related(events)[:size]
            )
            if not chunk:
                return
            yield chunk
            last = chunk[-1].pk

    def _report(self, incident: Incident, diffs) -> None:
        self.stdout.write(f"incident #{incident.pk} differs from its events:")
        for name, row, replayed in diffs:
            self.stdout.write(f"  {name}: row {row!r}, events say {replayed!r}")

    def _repair(self, incident_id: int) -> str:
        """Rewrite one row from its events, under its lock so no action interleaves."""
        try:
            with transaction.atomic():
                incident = Incident.objects.select_for_update().get(pk=incident_id)
                state = projection.replay(incident.events.order_by("seq"))
                for name in projection.FIELDS:
                    setattr(incident, name, getattr(state, name))
                incident.save(update_fields=list(projection.FIELDS))
        except IntegrityError as exc:
            return f"incident #{incident_id} could not be repaired: {exc}"
        return ""
