"""Exact MTTD / MTTA / MTTR computed by the database, on whichever engine the suite runs
(CI runs it on PostgreSQL and on SQLite), against figures worked out by hand."""

from datetime import timedelta

import pytest

from incidents.tests.factories import make_incident, make_service
from metrics import mttx_sql, selectors
from metrics.stats import Summary, summarize_us
from metrics.tests.factories import MTTA_US, MTTD_US, MTTR_US, NEXT_WEEK, WEEK, t
from metrics.weeks import week_bounds
from oncall.tests.factories import make_team
from tests.support import utc

pytestmark = pytest.mark.django_db

# Well after the weeks used here: every one of them is closed.
NOW = utc(2026, 11, 26, 12)


def approx(summary: Summary) -> Summary:
    return Summary(
        count=summary.count,
        mean=pytest.approx(summary.mean, rel=1e-12),
        p50=pytest.approx(summary.p50, rel=1e-12),
        p90=pytest.approx(summary.p90, rel=1e-12),
        max=pytest.approx(summary.max, rel=1e-12),
    )


def rows_by_key(rows):
    return {(row.service_id, row.week): row for row in rows}


def test_it_computes_exact_weekly_figures_by_hand(mttx_week):
    rows = rows_by_key(
        selectors.mttx_by_service_week(
            team=mttx_week.team, start_week=WEEK, end_week=WEEK, now=NOW, live=True
        )
    )
    row = rows[(mttx_week.checkout.pk, WEEK)]
    assert (row.incidents, row.open, row.unacknowledged) == (6, 2, 1)
    assert row.mttd == approx(Summary(6, 239.91675, 90.25, 599.50025, 900.0))
    assert row.mtta == approx(Summary(5, 78.0, 60.0, 132.0, 180.0))
    assert row.mttr == approx(Summary(4, 1980.0, 1860.0, 3096.0, 3600.0))


def test_it_matches_percentile_cont_to_the_bit(mttx_week):
    """Not approximately: the same doubles PostgreSQL's percentile_cont gives."""
    row = rows_by_key(
        selectors.mttx_by_service_week(
            team=mttx_week.team, start_week=WEEK, end_week=WEEK, now=NOW, live=True
        )
    )[(mttx_week.checkout.pk, WEEK)]
    assert row.mttd == summarize_us(MTTD_US)
    assert row.mtta == summarize_us(MTTA_US)
    assert row.mttr == summarize_us(MTTR_US)


def test_it_keeps_drill_incidents_out_and_reports_them_on_their_own(mttx_week):
    drills = rows_by_key(
        selectors.mttx_by_service_week(
            team=mttx_week.team, start_week=WEEK, end_week=WEEK, drills=True, now=NOW
        )
    )
    row = drills[(mttx_week.checkout.pk, WEEK)]
    # Measured from the fault injection at 08:58, not the alert's 09:00.
    assert (row.incidents, row.open, row.unacknowledged) == (1, 0, 0)
    assert row.mttd == Summary(1, 720.0, 720.0, 720.0, 720.0)
    assert row.mtta == Summary(1, 120.0, 120.0, 120.0, 120.0)
    assert row.mttr == Summary(1, 2520.0, 2520.0, 2520.0, 2520.0)
    assert drills[(mttx_week.payments.pk, WEEK)].incidents == 0


def test_it_returns_every_service_and_week_of_the_range(mttx_week):
    rows = selectors.mttx_by_service_week(
        team=mttx_week.team, start_week="2025-W46", end_week=NEXT_WEEK, now=NOW
    )
    assert [(r.service_id, r.week) for r in rows] == [
        (service_id, week)
        for service_id in sorted([mttx_week.checkout.pk, mttx_week.payments.pk])
        for week in ("2025-W46", WEEK, NEXT_WEEK)
    ]
    by_key = rows_by_key(rows)
    empty = by_key[(mttx_week.checkout.pk, "2025-W46")]
    assert (empty.incidents, empty.mttd, empty.mttr) == (0, Summary.empty(), Summary.empty())
    payments = by_key[(mttx_week.payments.pk, WEEK)]
    assert payments.mttd == Summary(1, 0.0, 0.0, 0.0, 0.0)
    assert payments.mtta == Summary(1, 600.0, 600.0, 600.0, 600.0)
    assert payments.mttr == Summary(1, 3600.0, 3600.0, 3600.0, 3600.0)
    following = by_key[(mttx_week.payments.pk, NEXT_WEEK)]
    assert (following.incidents, following.open, following.unacknowledged) == (1, 1, 1)
    assert following.mttd == Summary(1, 30.0, 30.0, 30.0, 30.0)
    assert following.mtta == following.mttr == Summary.empty()


def test_it_limits_rows_to_the_services_asked_for(mttx_week):
    rows = selectors.mttx_by_service_week(
        team=mttx_week.team,
        start_week=WEEK,
        end_week=WEEK,
        service_ids=[mttx_week.payments.pk],
        now=NOW,
    )
    assert [(r.service_id, r.incidents) for r in rows] == [(mttx_week.payments.pk, 1)]
    other_team = make_team(slug="elsewhere", name="Elsewhere")
    assert (
        selectors.mttx_by_service_week(
            team=other_team, start_week=WEEK, end_week=WEEK, service_ids=[mttx_week.payments.pk]
        )
        == []
    )


def test_it_summarizes_the_team_over_a_range(mttx_week):
    start, _ = week_bounds(WEEK, mttx_week.team.time_zone)
    _, end = week_bounds(NEXT_WEEK, mttx_week.team.time_zone)
    summary = selectors.mttx_for_team(team=mttx_week.team, start=start, end=end)
    assert (summary.service_id, summary.week) == (None, "")
    assert (summary.incidents, summary.open, summary.unacknowledged) == (8, 3, 2)
    assert summary.mttd == summarize_us([*MTTD_US, 0, 30_000_000])
    assert summary.mtta == summarize_us([*MTTA_US, 600_000_000])
    assert summary.mttr == summarize_us([*MTTR_US, 3_600_000_000])
    drills = selectors.mttx_for_team(team=mttx_week.team, start=start, end=end, drills=True)
    assert drills.incidents == 1 and drills.mttd.max == 720.0


def test_it_reports_each_incident_for_drill_reviews(mttx_week, service):
    made = mttx_week.incidents
    late = make_incident(service, detected=t(17), corrected=t(17, 10))
    figures = selectors.mttx_for_incidents(
        incident_ids=[made["drill"].pk, made["open"].pk, made["unacknowledged"].pk, late.pk, 0]
    )
    assert set(figures) == {made["drill"].pk, made["open"].pk, made["unacknowledged"].pk, late.pk}
    drill = figures[made["drill"].pk]
    assert drill["impact_start"] == t(8, 58)
    assert (drill["detected"], drill["acknowledged"], drill["resolved"]) == (
        t(9, 10),
        t(9, 12),
        t(9, 40),
    )
    assert (drill["mttd"], drill["mtta"], drill["mttr"]) == (720.0, 120.0, 2520.0)
    assert drill["drill_id"] is not None
    still_open = figures[made["open"].pk]
    assert still_open["impact_start"] == t(14, 0, 0, 999_600)
    assert (still_open["mttd"], still_open["mtta"], still_open["mttr"]) == (299.0005, 60.0, None)
    assert still_open["resolved"] is None
    withdrawn = figures[made["unacknowledged"].pk]
    assert (withdrawn["acknowledged"], withdrawn["mtta"], withdrawn["mttr"]) == (None, None, 600.0)
    # A corrected start after detection counts as detection: MTTD 0, never negative.
    assert (figures[late.pk]["impact_start"], figures[late.pk]["mttd"]) == (t(17), 0.0)


def test_it_buckets_by_detection_in_the_team_zone_across_dst(team, service):
    """Berlin springs forward on 30 March 2025; New York falls back on 2 November 2025."""
    # 21:30 UTC on Sunday 30 March is 23:30 CEST: still 2025-W13. 22:30 UTC is Monday 00:30
    # CEST: 2025-W14 (a fixed UTC+1 would have kept it in W13).
    make_incident(service, detected=utc(2025, 3, 30, 21, 30))
    make_incident(service, detected=utc(2025, 3, 30, 22, 30))
    make_incident(service, detected=utc(2025, 3, 23, 22, 59))  # Sunday 23:59 CET: W12
    rows = selectors.mttx_by_service_week(
        team=team, start_week="2025-W12", end_week="2025-W14", now=NOW
    )
    assert [(r.week, r.incidents) for r in rows] == [
        ("2025-W12", 1),
        ("2025-W13", 1),
        ("2025-W14", 1),
    ]

    ny = make_team(slug="platform", name="Platform", time_zone="America/New_York")
    gateway = make_service(ny, "api-gateway", "API gateway")
    # 04:30 UTC on Monday 3 November is Sunday 23:30 EST (W44); with EDT's -4 it would have
    # been Monday 00:30 (W45). 05:30 UTC is Monday 00:30 EST: W45.
    make_incident(gateway, detected=utc(2025, 11, 3, 4, 30))
    make_incident(gateway, detected=utc(2025, 11, 3, 5, 30))
    make_incident(gateway, detected=utc(2025, 11, 3, 5, 45))
    rows = selectors.mttx_by_service_week(
        team=ny, start_week="2025-W44", end_week="2025-W45", now=NOW
    )
    assert [(r.week, r.incidents) for r in rows] == [("2025-W44", 1), ("2025-W45", 2)]
    start, end = week_bounds("2025-W44", "America/New_York")
    assert end - start == timedelta(hours=169)


def test_its_query_count_does_not_grow_with_incidents(team, service, django_assert_max_num_queries):
    make_incident(service, impact=t(9), detected=t(9, 1), acked=t(9, 2), resolved=t(9, 3))
    with django_assert_max_num_queries(5) as few:
        selectors.mttx_by_service_week(
            team=team, start_week="2025-W40", end_week=WEEK, now=NOW, live=True
        )
    for minute in range(30):
        make_incident(service, detected=t(18, minute), acked=t(18, minute, 30))
    make_service(team, "search", "Search")
    with django_assert_max_num_queries(len(few.captured_queries)):
        selectors.mttx_by_service_week(
            team=team, start_week="2025-W40", end_week=WEEK, now=NOW, live=True
        )


def test_it_counts_only_the_ranges_asked_for_even_with_gaps(mttx_week):
    """Readers ask for the weeks the read model lacks, which need not be contiguous."""
    tz = mttx_week.team.time_zone
    ranges = [(week, *week_bounds(week, tz)) for week in ("2025-W46", NEXT_WEEK)]
    found = {
        (agg.service_id, agg.label): agg.incidents
        for agg in mttx_sql.aggregate(ranges=ranges, service_ids=None, drills=False)
    }
    # WEEK, in the gap, is left out entirely.
    assert found == {(mttx_week.payments.pk, NEXT_WEEK): 1}


def test_it_refuses_overlapping_ranges():
    start, end = week_bounds(WEEK, "UTC")
    indexes, bounds = mttx_sql.buckets([("a", start, end), ("b", end, end + timedelta(days=7))])
    assert (indexes, bounds) == ([0, 1, None], [start, end, end + timedelta(days=7)])
    with pytest.raises(ValueError, match="overlap"):
        mttx_sql.buckets([("a", start, end), ("b", end - timedelta(hours=1), end)])
