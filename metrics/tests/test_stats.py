"""The reference statistics (pure, no database): PostgreSQL's percentile_cont to the bit."""

from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.stats import Summary, mean_seconds, percentile_cont, summarize, summarize_us


def s(value: float) -> timedelta:
    return timedelta(seconds=value)


def test_it_summarizes_hand_computed_durations():
    # 60, 120, 300, 900 s: p50 at rank 1.5 -> 120 + 0.5 * 180; p90 at rank 2.7 -> 300 + 0.7 * 600.
    summary = summarize([s(300), s(60), s(900), s(120)])
    assert summary == Summary(count=4, mean=345.0, p50=210.0, p90=pytest.approx(720.0), max=900.0)


def test_it_gives_the_value_itself_for_one_duration():
    assert summarize([s(42.5)]) == Summary(1, 42.5, 42.5, 42.5, 42.5)


def test_it_gives_nothing_for_no_durations():
    assert summarize([]) == Summary(0, None, None, None, None)
    assert Summary.empty().as_dict() == {
        "count": 0,
        "mean": None,
        "p50": None,
        "p90": None,
        "max": None,
    }


def test_it_keeps_microseconds():
    summary = summarize([timedelta(microseconds=1), timedelta(microseconds=2)])
    assert summary.mean == 1.5e-6
    assert summary.max == 2e-6
    assert summary.p50 == 1.5e-6


def test_it_interpolates_exactly_like_percentile_cont():
    # PostgreSQL: rank = 0.9 * (n - 1) in double; lo + (hi - lo) * (rank - floor(rank)).
    values = [1.0, 2.0, 3.0, 4.0]
    rank = 0.9 * 3
    assert percentile_cont(values, 0.9) == 3.0 + (4.0 - 3.0) * (rank - 2)
    assert percentile_cont(values, 0.5) == 2.5
    assert percentile_cont([], 0.5) is None


def test_it_computes_the_mean_from_exact_integers():
    # Three durations whose float sum would round: the mean is one correctly rounded division.
    assert mean_seconds(1_000_001 + 2_000_003 + 3_000_005, 3) == float(
        Fraction(6_000_009, 3_000_000)
    )
    assert mean_seconds(0, 0) is None


@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=60))
def test_it_orders_the_figures(values_us):
    summary = summarize_us(values_us)
    smallest = min(values_us) / 1e6
    assert summary.count == len(values_us)
    assert smallest <= summary.p50 <= summary.p90 <= summary.max == max(values_us) / 1e6
    assert smallest <= summary.mean <= summary.max
    exact_mean = Fraction(sum(values_us), len(values_us) * 10**6)
    assert summary.mean == float(exact_mean)
