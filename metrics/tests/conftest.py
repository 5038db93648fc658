"""Fixtures of the metrics tests: the hand-built data sets of metrics/tests/factories.py on
the shared `team` and `service` (checkout)."""

import pytest

from metrics import reports
from metrics.tests.factories import (
    REPORT_BUILT_AT,
    REPORT_WEEK,
    make_mttx_week,
    make_report_week,
)


@pytest.fixture
def mttx_week(team, service):
    """WEEK's incidents on checkout and payments-api, with their figures worked out by hand."""
    return make_mttx_week(team, service)


@pytest.fixture
def w43(team, service, users):
    """REPORT_WEEK (2026-W43, the week Berlin's clocks go back) on team payments."""
    return make_report_week(team, users)


@pytest.fixture
def w43_report(w43, team):
    """The weekly report of REPORT_WEEK, built on the Monday after it."""
    return reports.report_build(team=team, week=REPORT_WEEK, now=REPORT_BUILT_AT).report
