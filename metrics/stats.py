"""Summary statistics of durations, exactly as the database computes them. Pure.

The figures themselves are computed in SQL (metrics.mttx_sql); this module is the reference
the SQL is tested against, and turns the exact integers the SQL returns into seconds:

* durations are whole microseconds (integers), so counts, sums and maxima are exact on every
  engine and the mean is one correctly rounded division;
* percentiles follow PostgreSQL's ``percentile_cont`` to the bit: the values in seconds
  (microseconds / 1e6 as a double), rank ``f * (n - 1)``, linear interpolation
  ``lo + (hi - lo) * (rank - floor(rank))`` in double precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

MICROSECONDS = 1_000_000
# Each fraction as an exact ratio, so SQL that cannot trust its float literals can build
# the same double by one division (see mttx_sql).
PERCENTILES = {"p50": (1, 2), "p90": (9, 10)}


@dataclass(frozen=True)
class Summary:
    """All durations in seconds (float), None when count == 0."""

    count: int
    mean: float | None
    p50: float | None
    p90: float | None
    max: float | None

    @classmethod
    def empty(cls) -> Summary:
        return cls(0, None, None, None, None)

    def as_dict(self) -> dict:
        return {
            "count": self.count,
            "mean": self.mean,
            "p50": self.p50,
            "p90": self.p90,
            "max": self.max,
        }


_new = object.__new__
_set = object.__setattr__


def frozen_instance(cls: type, **values):
    """An instance of a frozen dataclass without its generated __init__, which sets each
    field through object.__setattr__; a year of weekly rows builds thousands of summaries
    and that is several times slower. The instance is the same (fields, equality, frozen)."""
    instance = _new(cls)
    _set(instance, "__dict__", values)
    return instance


def microseconds(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def seconds(us: int) -> float:
    return us / MICROSECONDS


def mean_seconds(total_us: int, count: int) -> float | None:
    # Integer / integer is a single correctly rounded division in Python.
    return total_us / (count * MICROSECONDS) if count else None


def percentile_cont(sorted_values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over values already sorted ascending."""
    if not sorted_values:
        return None
    rank = fraction * (len(sorted_values) - 1)
    first, second = math.floor(rank), math.ceil(rank)
    lo = sorted_values[first]
    if second == first:
        return lo
    hi = sorted_values[second]
    return lo + (hi - lo) * (rank - first)


def summary_from_parts(
    *, count: int, total_us: int | None, max_us: int | None, p50: float | None, p90: float | None
) -> Summary:
    """A Summary from what the SQL returns: exact integers plus the two percentiles."""
    if not count:
        return Summary.empty()
    return Summary(
        count=count,
        mean=mean_seconds(int(total_us), count),
        p50=p50,
        p90=p90,
        max=seconds(int(max_us)),
    )


def summarize_us(values_us: Iterable[int]) -> Summary:
    """The reference: what the database returns for these durations (in microseconds)."""
    ordered = sorted(values_us)
    if not ordered:
        return Summary.empty()
    in_seconds = [seconds(v) for v in ordered]
    return summary_from_parts(
        count=len(ordered),
        total_us=sum(ordered),
        max_us=ordered[-1],
        p50=percentile_cont(in_seconds, num(PERCENTILES["p50"])),
        p90=percentile_cont(in_seconds, num(PERCENTILES["p90"])),
    )


def summarize(durations: Iterable[timedelta]) -> Summary:
    return summarize_us(microseconds(d) for d in durations)


def num(ratio: tuple[int, int]) -> float:
    return ratio[0] / ratio[1]
