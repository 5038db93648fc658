"""`manage.py weekly_report`: one week, a backfill with a progress bar, --rebuild, --email."""

import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from metrics.models import WeeklyReport
from metrics.tests.factories import make_subscription
from metrics.weeks import iso_week_of, shift_week

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("weekly_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_builds_a_week_once_and_a_new_version_on_rebuild(team, service):
    out, _ = run("--team", "payments", "--week", "2026-W43")
    assert out == "built payments 2026-W43 version 1\n"
    out, _ = run("--team", "payments", "--week", "2026-W43")
    built_at = WeeklyReport.objects.get().built_at.isoformat()
    assert out == (
        f"payments 2026-W43 already built at {built_at} (version 1); "
        "use --rebuild for a new version\n"
    )
    out, _ = run("--team", "payments", "--week", "2026-W43", "--rebuild")
    assert out == "built payments 2026-W43 version 2\n"
    assert list(WeeklyReport.objects.order_by("version").values_list("version", flat=True)) == [
        1,
        2,
    ]


def test_it_backfills_with_a_progress_bar_on_stderr(team, service):
    last = shift_week(iso_week_of(timezone.now(), team.time_zone), -1)
    since = shift_week(last, -2)
    run("--team", "payments", "--week", shift_week(last, -1))  # one of them exists already
    out, err = run("--team", "payments", "--since", since)
    assert "1/3" in err and "3/3" in err and "[" + "#" * 30 + "]" in err
    assert f"payments {shift_week(last, -1)} already built" in out
    assert out.endswith(f"3 weeks processed since {since}\n")
    weeks = set(WeeklyReport.objects.values_list("week", flat=True))
    assert weeks == {since, shift_week(last, -1), last}
    assert WeeklyReport.objects.count() == 3


def test_without_a_team_it_builds_every_team(team, users):
    out, _ = run("--week", "2026-W43")
    assert out.splitlines() == [
        "built other 2026-W43 version 1",
        "built payments 2026-W43 version 1",
    ]


def test_it_emails_new_snapshots_when_asked(team, users):
    make_subscription(team, users["manager"], email="manager@example.com")
    out, _ = run("--team", "payments", "--week", "2026-W43", "--email")
    assert "emailed to 1 subscriber\n" in out
    assert [m.to for m in mail.outbox] == [["manager@example.com"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--team", "nope", "--week", "2026-W43"), "--team: no team 'nope'"),
        (("--week", "2026-W99"), "--week: '2026-W99' does not exist"),
        (("--since", "last week"), "--since: 'last week' is not an ISO week"),
    ],
)
def test_it_explains_bad_arguments(team, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not WeeklyReport.objects.exists()


def test_a_week_that_is_not_over_is_reported_and_fails_the_command(team):
    current = iso_week_of(timezone.now(), team.time_zone)
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 report could not be built"):
        call_command(
            "weekly_report",
            "--team",
            "payments",
            "--week",
            current,
            stdout=io.StringIO(),
            stderr=err,
        )
    assert f"payments {current}: {current} is not over yet" in err.getvalue()
