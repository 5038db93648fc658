"""Load the demo data `make run` shows (metrics.demo): idempotent, a second run only
refreshes the demo login and webhook token and says the demo is already there."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from metrics.demo import DEMO_PASSWORD, DEMO_USER, demo_seed


class Command(BaseCommand):
    help = "Load demo data (safe to run again: a loaded demo is left as it is)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        seeded = demo_seed()
        if seeded.created:
            self.stdout.write(
                f"demo data: {seeded.incidents} incidents over 12 weeks, "
                f"{seeded.rollup_rows} rolled-up service-weeks, {seeded.reports} weekly "
                f"reports, in {time.perf_counter() - started:.1f} s"
            )
        else:
            self.stdout.write("demo data already loaded")
        self.stdout.write(f"demo login: {DEMO_USER} / {DEMO_PASSWORD}")
        self.stdout.write(f"demo webhook: {seeded.webhook_url}")
