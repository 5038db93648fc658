"""Build weekly MTTR report snapshots by hand: one week, or every week since a given one.

    python manage.py weekly_report --team payments --week 2026-W47
    python manage.py weekly_report --team payments --since 2026-W30   # backfill
    python manage.py weekly_report --week 2026-W47 --rebuild          # every team, new version

A week already built is left alone (and said so) unless --rebuild is given, which adds a
new version and keeps the old ones.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from metrics import reports
from metrics.weeks import iso_week_of, parse_iso_week, shift_week, weeks_between
from oncall.models import Team


class Command(BaseCommand):
    help = "Build weekly MTTR report snapshots (idempotent; --rebuild adds a version)."

    def add_arguments(self, parser):
        parser.add_argument("--team", help="team slug (default: every team)")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--week", help="ISO week like 2026-W47 (default: the previous week)")
        which.add_argument("--since", help="backfill every closed week from this one on")
        parser.add_argument(
            "--rebuild", action="store_true", help="build a new version of existing weeks"
        )
        parser.add_argument(
            "--email", action="store_true", help="email new snapshots to subscribers"
        )

    def handle(self, *args, team=None, week=None, since=None, rebuild=False, email=False, **_):
        now = timezone.now()
        teams = Team.objects.order_by("slug")
        if team:
            teams = teams.filter(slug=team)
            if not teams.exists():
                raise CommandError(f"--team: no team {team!r}")
        for value, option in ((week, "--week"), (since, "--since")):
            if value:
                try:
                    parse_iso_week(value)
                except ValueError as exc:
                    raise CommandError(f"{option}: {exc}") from None
        jobs = []
        for found in teams:
            last = shift_week(iso_week_of(now, found.time_zone), -1)
            if since:
                jobs += [(found, w) for w in weeks_between(since, last)]
            else:
                jobs.append((found, week or last))
        if since and not jobs:
            raise CommandError(f"--since: {since} is after the last closed week")
        failed = 0
        for done, (found, label) in enumerate(jobs, start=1):
            try:
                result = reports.report_build(team=found, week=label, rebuild=rebuild, now=now)
            except reports.ReportError as exc:
                failed += 1
                self.stderr.write(f"{found.slug} {label}: {exc}")
                continue
            finally:
                if since:
                    self._progress(done, len(jobs), f"{found.slug} {label}")
            if not since or not result.created:
                if since:
                    self.stderr.write("\r\033[K", ending="")  # clear the progress line
                self.stdout.write(result.message)
            if email and result.created:
                sent = reports.report_email(report_id=result.report.pk)
                self.stdout.write(f"  emailed to {sent} subscriber{'s' if sent != 1 else ''}")
        if since:
            self.stderr.write("")
            built = len(jobs) - failed
            self.stdout.write(f"{built} week{'s' if built != 1 else ''} processed since {since}")
        if failed:
            raise CommandError(f"{failed} report{'s' if failed != 1 else ''} could not be built")

    def _progress(self, done: int, total: int, label: str) -> None:
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        self.stderr.write(f"\r[{bar}] {done}/{total} {label}", ending="")
        self.stderr.flush()
