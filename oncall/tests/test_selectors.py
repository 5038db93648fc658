"""Who is on call, read from the database: the mapping to rotation values, the escalation
seam (`oncall_users`), the dashboard selectors and their query counts."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncall import rotation, selectors, services
from oncall.tests import factories
from tests.support import utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(team, users):
    """Berlin: business hours (viewer) over a daily 09:00 rotation (manager, responder)."""
    return factories.make_schedule(
        team,
        [
            factories.layer(
                "business hours",
                [users["viewer"]],
                unit="weeks",
                handoff_start=datetime(2026, 3, 23, 9),
                restrictions=[((0, 1, 2, 3, 4), (9, 0), (17, 0))],
            ),
            factories.layer(
                "primary",
                [users["manager"], users["responder"]],
                handoff_start=datetime(2026, 3, 27, 9),
                end=datetime(2026, 12, 31, 9),
            ),
        ],
    )


def test_it_maps_rows_to_rotation_values_in_priority_order(schedule):
    spec = selectors.spec_for(schedule, start=utc(2026, 3, 1), end=utc(2026, 4, 1))
    assert spec.tz == ZoneInfo("Europe/Berlin")
    assert spec.layers == (
        rotation.Layer(
            "business hours",
            ("viewer",),
            rotation.Rotation("weeks", 1),
            datetime(2026, 3, 23, 9),
            (rotation.Restriction(frozenset(range(5)), time(9), time(17)),),
        ),
        rotation.Layer(
            "primary",
            ("manager", "responder"),
            rotation.Rotation("days", 1),
            datetime(2026, 3, 27, 9),
            (),
            datetime(2026, 12, 31, 9),
        ),
    )
    assert spec.overrides == ()


def test_it_gives_overrides_their_creation_order(schedule, users):
    first = factories.make_override(
        schedule, users["viewer"], start=utc(2026, 3, 29), end=utc(2026, 3, 30)
    )
    second = factories.make_override(
        schedule,
        users["manager"],
        start=utc(2026, 3, 29),
        end=utc(2026, 3, 30),
        replaces=users["viewer"],
    )
    spec = selectors.spec_for(schedule, start=utc(2026, 3, 1), end=utc(2026, 4, 1))
    assert spec.overrides == (
        rotation.Override("viewer", utc(2026, 3, 29), utc(2026, 3, 30), None, first.pk),
        rotation.Override("manager", utc(2026, 3, 29), utc(2026, 3, 30), "viewer", second.pk),
    )


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 3, 29, 6, 59, 59), ["responder"]),  # Sat 09:00 CET - Sun 09:00 CEST
        (utc(2026, 3, 29, 7), ["manager"]),
        (utc(2026, 3, 30, 7), ["viewer"]),  # Monday 09:00 CEST: business hours
        (utc(2026, 3, 30, 15), ["responder"]),  # 17:00 CEST
        (utc(2026, 3, 27, 7, 59), []),  # before the first handoff: a gap
        (utc(2026, 12, 31, 7, 59), ["manager"]),
        (utc(2026, 12, 31, 8), ["viewer"]),  # primary ended at 09:00 CET
        (utc(2026, 12, 31, 16), []),  # Thursday 17:00 CET, nobody from now on
    ],
)
def test_it_gives_escalation_the_final_person_or_nobody(schedule, at, expected):
    users = selectors.oncall_users(schedule_id=schedule.pk, at=at)
    assert [user.username for user in users] == expected


def test_it_gives_escalation_the_latest_override(schedule, users):
    at = utc(2026, 3, 29, 12)
    for who in ("viewer", "responder"):
        services.override_create(
            schedule=schedule, user=users[who], start=at - timedelta(hours=1), end=at
        )
    services.override_create(
        schedule=schedule, user=users["viewer"], start=at, end=at + timedelta(hours=1)
    )
    assert [u.username for u in selectors.oncall_users(schedule_id=schedule.pk, at=at)] == [
        "viewer"
    ]
    before = at - timedelta(minutes=1)
    assert [u.username for u in selectors.oncall_users(schedule_id=schedule.pk, at=before)] == [
        "responder"
    ]


def test_it_gives_escalation_nobody_for_a_missing_schedule_and_refuses_naive_times(schedule):
    assert selectors.oncall_users(schedule_id=schedule.pk + 1000, at=utc(2026, 3, 29)) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        selectors.oncall_users(schedule_id=schedule.pk, at=datetime(2026, 3, 29, 9))


def test_it_resolves_oncall_users_in_constant_queries(
    schedule, users, django_assert_max_num_queries
):
    for hour in range(10):
        services.override_create(
            schedule=schedule,
            user=users["viewer"],
            start=utc(2026, 3, 29, hour),
            end=utc(2026, 3, 29, hour, 30),
        )
    with django_assert_max_num_queries(5):
        selectors.oncall_users(schedule_id=schedule.pk, at=utc(2026, 3, 29, 5, 15))


def test_it_lists_every_visible_schedule_in_oncall_now(schedule, team, users):
    empty = factories.make_schedule(team, [], name="Nobody")
    result = selectors.oncall_now(users["viewer"], now=utc(2026, 3, 30, 8))
    assert [(s.pk, shift.user if shift else None) for s, shift in result] == [
        (empty.pk, None),
        (schedule.pk, "viewer"),
    ]
    shift = result[1][1]
    assert (shift.start, shift.end, shift.source) == (
        utc(2026, 3, 30, 7),
        utc(2026, 3, 30, 15),
        "business hours",
    )
    assert selectors.oncall_now(users["outsider"], now=utc(2026, 3, 30, 8)) == []


def test_it_never_claims_beyond_the_oncall_now_horizon(team, users):
    solo = factories.make_schedule(
        team,
        [
            factories.layer(
                "eight weeks",
                [users["manager"], users["responder"]],
                unit="weeks",
                every=8,
                handoff_start=datetime(2026, 3, 2, 9),
            )
        ],
    )
    now = utc(2026, 3, 20)
    ((_, shift),) = selectors.oncall_now(users["manager"], now=now)
    assert shift.user == "manager"
    assert shift.start == now - selectors.ONCALL_HORIZON
    assert shift.end == now + selectors.ONCALL_HORIZON
    assert selectors.schedule_oncall(solo, at=now).end == utc(2026, 4, 27, 7)  # 8 weeks on


def test_it_keeps_dashboard_queries_flat_as_schedules_grow(
    team, users, django_assert_max_num_queries
):
    def make(count):
        for index in range(count):
            factories.make_schedule(
                team,
                [
                    factories.layer(
                        f"l{n}",
                        [users["manager"], users["responder"]],
                        handoff_start=datetime(2026, 1, 1, 9),
                    )
                    for n in range(3)
                ],
                name=f"s{index}-{count}",
            )

    make(1)
    with django_assert_max_num_queries(10) as one:
        selectors.oncall_now(users["viewer"], now=utc(2026, 3, 30))
        selectors.gaps_soon(users["viewer"], now=utc(2026, 3, 30))
    count = len(one.captured_queries)
    make(6)
    with django_assert_max_num_queries(count):
        result = selectors.oncall_now(users["viewer"], now=utc(2026, 3, 30))
        selectors.gaps_soon(users["viewer"], now=utc(2026, 3, 30))
    assert len(result) == 7


def test_it_flags_only_schedules_with_gaps_soon(schedule, team, users):
    factories.make_schedule(
        team,
        [factories.layer("all", [users["manager"]], handoff_start=datetime(2026, 1, 1))],
        name="Covered",
    )
    flagged = selectors.gaps_soon(users["viewer"], now=utc(2026, 12, 20))
    assert [(s.pk, [(g.start, g.end) for g in gaps]) for s, gaps in flagged] == [
        # primary ends Thu 31 Dec 09:00 CET; business hours go on until 17:00, then nobody.
        (
            schedule.pk,
            [(utc(2026, 12, 31, 16), utc(2027, 1, 1, 8)), (utc(2027, 1, 1, 16), utc(2027, 1, 3))],
        ),
    ]


def test_it_lists_the_users_upcoming_shifts_with_real_starts(schedule, users):
    now = utc(2026, 3, 29, 12)
    mine = selectors.upcoming_shifts(users["manager"], now=now, within=timedelta(days=3))
    assert [(s.pk, shift.start, shift.end) for s, shift in mine] == [
        (schedule.pk, utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)),  # started before now
        # Tuesday's shift starts when business hours end, at 17:00 CEST.
        (schedule.pk, utc(2026, 3, 31, 15), utc(2026, 4, 1, 7)),
    ]
    assert selectors.upcoming_shifts(users["outsider"], now=now) == []
