"""The MTTx read model: closed weeks rolled up once, exactly; recomputed when later events
(a late resolve, a corrected impact start, a drill attach) change them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import IncidentEvent
from incidents.timeline import actions as incident_services
from metrics import rollup, selectors
from metrics.models import MttxRollupState, MttxWeek
from metrics.stats import Summary, summarize_us
from metrics.tests.factories import MTTD_US, MTTR_US, NEXT_WEEK, WEEK, attach_to_drill, t
from metrics.weeks import iso_week_of, week_bounds
from tests.support import utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(mttx_week, settings):
    # Events recorded by this test are committed: the cursor may move right up to them.
    settings.PAGERLINE_MTTX_COMMIT_MARGIN_SECONDS = 0
    return mttx_week


def read(data, *, start=WEEK, end=WEEK, drills=False, now=None):
    rows = selectors.mttx_by_service_week(
        team=data.team, start_week=start, end_week=end, drills=drills, now=now
    )
    return {(row.service_id, row.week): row for row in rows}


def live_queries(queries) -> list[str]:
    """Queries that computed figures from incidents instead of reading the model."""
    return [q["sql"] for q in queries if "durations" in q["sql"]]


def stored(service, week=WEEK, drills=False) -> MttxWeek:
    return MttxWeek.objects.get(service=service, week=week, drills=drills)


def test_it_rolls_up_every_closed_week_exactly(data):
    written = rollup.mttx_weeks_rollup()
    current = iso_week_of(timezone.now(), data.team.time_zone)
    row = stored(data.checkout)
    start, end = week_bounds(WEEK, "Europe/Berlin")
    assert (row.starts_at, row.ends_at, row.time_zone) == (start, end, "Europe/Berlin")
    assert (row.incidents, row.open, row.unacknowledged) == (6, 2, 1)
    assert (row.mttd_count, row.mttd_sum_us, row.mttd_max_us) == (6, sum(MTTD_US), max(MTTD_US))
    assert (row.mttd_p50, row.mttd_p90) == (
        summarize_us(MTTD_US).p50,
        summarize_us(MTTD_US).p90,
    )
    assert stored(data.checkout, drills=True).mttr_max_us == 2_520_000_000
    # Every service, every closed week from the first incident's on, both kinds; never the
    # week still running.
    assert stored(data.payments, NEXT_WEEK).incidents == 1
    assert not MttxWeek.objects.filter(week=current).exists()
    assert written == MttxWeek.objects.count()
    assert MttxWeek.objects.filter(service=data.checkout, drills=False).count() == (written // 4)


def test_a_second_run_writes_nothing(data):
    assert rollup.mttx_weeks_rollup() > 0
    assert rollup.mttx_weeks_rollup() == 0


def test_readers_use_the_model_for_closed_weeks_with_the_same_figures(data):
    live = read(data, start=WEEK, end="2026-W05")
    rollup.mttx_weeks_rollup()
    with CaptureQueriesContext(connection) as queries:
        from_model = read(data, start=WEEK, end="2026-W05")
    assert live_queries(queries.captured_queries) == []
    assert from_model == live
    # Weeks before the first incident were never rolled up: computed live, all empty.
    earlier = read(data, start="2025-W40", end=NEXT_WEEK)
    assert earlier[(data.checkout.pk, "2025-W40")].incidents == 0
    assert earlier[(data.checkout.pk, WEEK)] == live[(data.checkout.pk, WEEK)]
    assert from_model[(data.checkout.pk, WEEK)].mttr == summarize_us(MTTR_US)


def test_the_open_week_is_computed_live(data):
    rollup.mttx_weeks_rollup()
    # As if it were Wednesday of NEXT_WEEK: that week is still running.
    now = utc(2025, 11, 26, 12)
    with CaptureQueriesContext(connection) as queries:
        rows = read(data, end=NEXT_WEEK, now=now)
    assert len(live_queries(queries.captured_queries)) == 1
    assert rows[(data.payments.pk, NEXT_WEEK)].incidents == 1
    assert rows[(data.checkout.pk, WEEK)].mtta.count == 5


def test_a_late_resolution_changes_a_closed_week(data):
    rollup.mttx_weeks_rollup()
    still_open = data.incidents["open"]
    # Resolved on Friday of the following week: MTTR from 14:00:00.9996 on the 19th.
    incident_services.incident_resolve(
        incident_id=still_open.pk, actor_label="test", at=utc(2025, 11, 28, 14, 0, 0, 999_600)
    )
    expected = summarize_us([*MTTR_US, 9 * 86_400_000_000])

    # Readers see it at once: the rolled-up row predates the event.
    before = read(data)[(data.checkout.pk, WEEK)]
    assert (before.open, before.mttr) == (1, expected)
    assert stored(data.checkout).mttr_count == 4

    assert rollup.mttx_weeks_rollup() == 2  # checkout's WEEK, production and drills
    row = stored(data.checkout)
    assert (row.open, row.mttr_count, row.mttr_max_us) == (1, 5, 9 * 86_400_000_000)
    with CaptureQueriesContext(connection) as queries:
        after = read(data)[(data.checkout.pk, WEEK)]
    assert live_queries(queries.captured_queries) == []
    assert after.mttr == expected
    state = MttxRollupState.objects.get(name=rollup.STATE_NAME)
    assert state.rolled_up_through_event_id == still_open.events.order_by("-id")[0].pk


def test_a_corrected_impact_start_changes_a_closed_week(data):
    rollup.mttx_weeks_rollup()
    plain = data.incidents["plain"]
    incident_services.incident_correct_impact_start(
        incident_id=plain.pk,
        impact_started_at=t(9, 30),
        reason="users complained from 09:30",
        actor_label="test",
        at=utc(2025, 12, 1),
    )
    rollup.mttx_weeks_rollup()
    mttd = [v for v in MTTD_US if v != 120_000_000] + [32 * 60_000_000]
    mttr = [v for v in MTTR_US if v != 1_920_000_000] + [62 * 60_000_000]
    row = read(data)[(data.checkout.pk, WEEK)]
    assert (row.mttd, row.mttr) == (summarize_us(mttd), summarize_us(mttr))
    assert stored(data.checkout).mttd_max_us == 1_920_000_000


def test_an_incident_attached_to_a_drill_later_moves_to_the_drill_figures(data):
    rollup.mttx_weeks_rollup()
    attach_to_drill(data.incidents["plain"], injected=t(9, 55))
    rollup.mttx_weeks_rollup()
    assert stored(data.checkout).incidents == 5
    drill_row = stored(data.checkout, drills=True)
    assert drill_row.incidents == 2
    drills = read(data, drills=True)[(data.checkout.pk, WEEK)]
    assert drills.mttd == summarize_us([720_000_000, 420_000_000])


def test_the_cursor_waits_for_events_that_may_still_be_in_flight(data, settings):
    settings.PAGERLINE_MTTX_COMMIT_MARGIN_SECONDS = 300
    rollup.mttx_weeks_rollup()
    # Everything here was recorded moments ago: the cursor stays before it...
    first_event = IncidentEvent.objects.order_by("id").first().pk
    state = MttxRollupState.objects.get(name=rollup.STATE_NAME)
    assert state.rolled_up_through_event_id == first_event - 1
    incident_services.incident_resolve(
        incident_id=data.incidents["open"].pk, actor_label="test", at=utc(2025, 11, 20)
    )
    # ...yet the rollup takes every visible event into account, and takes it again next time.
    assert rollup.mttx_weeks_rollup() > 0
    assert stored(data.checkout).mttr_count == 5
    assert read(data)[(data.checkout.pk, WEEK)].mttr.count == 5


def test_rows_of_another_time_zone_are_ignored_then_recomputed(data):
    rollup.mttx_weeks_rollup()
    data.team.time_zone = "America/New_York"
    data.team.save()
    # payments-api's Thursday 08:00 UTC incident is still in WEEK; readers must not use the
    # Berlin-bounded rows, whose weeks start six hours earlier.
    with CaptureQueriesContext(connection) as queries:
        rows = read(data, start="2025-W46", end=NEXT_WEEK)
    assert len(live_queries(queries.captured_queries)) == 1
    assert rows[(data.payments.pk, WEEK)].incidents == 1
    rollup.mttx_weeks_rollup()
    start, end = week_bounds(WEEK, "America/New_York")
    row = stored(data.payments)
    assert (row.starts_at, row.ends_at, row.time_zone) == (start, end, "America/New_York")
    assert read(data, start="2025-W46", end=NEXT_WEEK) == rows


def test_invalidated_weeks_are_computed_live_until_rolled_up_again(data):
    rollup.mttx_weeks_rollup()
    drill_service = data.incidents["drill"].drill_attachment.drill.targets.get()
    drill_service.injected_at = t(8, 50)  # not an incident event: the editor invalidates
    drill_service.save()
    assert rollup.mttx_weeks_invalidate(incident_ids=[data.incidents["drill"].pk]) == 2
    drills = read(data, drills=True)[(data.checkout.pk, WEEK)]
    assert drills.mttd == Summary(1, 1200.0, 1200.0, 1200.0, 1200.0)
    assert rollup.mttx_weeks_rollup() == 2
    assert stored(data.checkout, drills=True).mttd_max_us == 1_200_000_000


def test_without_incidents_it_writes_the_recent_weeks_empty_once(team, service):
    # The dashboard's trend reads these twelve weeks; stored empty, nothing is computed live.
    assert rollup.mttx_weeks_rollup() == rollup.RECENT_WEEKS * 2  # production and drills
    assert not MttxWeek.objects.exclude(incidents=0).exists()
    assert rollup.mttx_weeks_rollup() == 0


def test_week_rows_are_unique_per_service_week_and_kind(data):
    from django.db import IntegrityError, transaction

    rollup.mttx_weeks_rollup()
    row = stored(data.checkout)
    row.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()
