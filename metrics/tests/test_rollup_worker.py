"""The rollup as it runs in production: a beat-scheduled task executed by a real worker."""

import re
import uuid

import pytest

from config.celery import app
from incidents.tests.factories import make_incident
from metrics.models import MttxWeek
from metrics.tasks import rollup_closed_weeks
from metrics.tests.factories import WEEK, t
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_beat_runs_the_rollup_hourly():
    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == rollup_closed_weeks.name]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    # crontab(minute=7): once an hour.
    assert schedule.minute == {7} and len(schedule.hour) == 24


def test_a_real_worker_rolls_up_closed_weeks_and_a_repeat_is_harmless(
    service, worker_env, make_worker
):
    worker_env["PAGERLINE_MTTX_COMMIT_MARGIN_SECONDS"] = "0"
    # A queue of its own: another test run's worker on the same broker must not take these.
    queue = f"mttx-rollup-{uuid.uuid4().hex}"
    worker_env["PAGERLINE_QUEUE"] = queue
    make_incident(service, impact=t(10), detected=t(10, 2), acked=t(10, 5), resolved=t(10, 32))
    worker = make_worker()
    rollup_closed_weeks.apply_async(queue=queue)
    row = wait_for(
        lambda: MttxWeek.objects.filter(service=service, week=WEEK, drills=False).first(),
        timeout=60,
        message="the worker did not roll up the week",
    )
    assert (row.incidents, row.mttd_sum_us, row.mtta_sum_us, row.mttr_sum_us) == (
        1,
        120_000_000,
        180_000_000,
        1_920_000_000,
    )
    count = MttxWeek.objects.count()
    # Two more runs at once, on the worker's two pool processes: they queue on the state
    # row and find nothing left to do.
    rollup_closed_weeks.apply_async(queue=queue)
    rollup_closed_weeks.apply_async(queue=queue)

    def runs():
        return re.findall(r"MTTx rollup: (\d+) rows written", worker.log_path.read_text())

    wait_for(lambda: len(runs()) == 3, timeout=60, message="the repeated runs did not finish")
    assert runs()[1:] == ["0", "0"]
    assert MttxWeek.objects.count() == count
    assert MttxWeek.objects.filter(computed_at__gt=row.computed_at).count() == 0
