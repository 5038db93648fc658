"""Calendar feeds: RFC 5545 output parsed back with icalendar, UTC times that match the
final shifts (across a DST change), stable UIDs, and secret URLs that rotation revokes."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from oncall import ical, selectors, services
from oncall.rotation.effective import final_shifts
from oncall.tests import factories
from tests.support import utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(team, users):
    return factories.make_schedule(
        team,
        [
            factories.layer(
                "primary",
                [users["manager"], users["responder"]],
                handoff_start=datetime(2026, 1, 2, 9),
            )
        ],
    )


def events(body: bytes) -> list:
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    return list(calendar.walk("VEVENT"))


def spans(parsed) -> list[tuple]:
    return [(str(e["SUMMARY"]), e.decoded("DTSTART"), e.decoded("DTEND")) for e in parsed]


def feed(schedule, now: datetime) -> bytes:
    return ical.build_calendar(
        name=schedule.name,
        shifts=[
            ical.FeedShift(schedule.pk, schedule.name, shift)
            for shift in selectors.schedule_feed_shifts(schedule, now=now)
        ],
        stamp=now,
        domain="pagerline.test",
        with_person=True,
    )


def test_it_writes_each_final_shift_as_a_utc_event_across_dst(schedule):
    now = utc(2026, 4, 4, 12)  # window: 28 March 12:00 UTC to 3 June 12:00 UTC
    parsed = events(feed(schedule, now))
    assert spans(parsed)[:4] == [
        # The first event keeps its real start, before the window.
        ("On call: Primary (responder)", utc(2026, 3, 28, 8), utc(2026, 3, 29, 7)),  # 23 h
        ("On call: Primary (manager)", utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)),
        ("On call: Primary (responder)", utc(2026, 3, 30, 7), utc(2026, 3, 31, 7)),
        ("On call: Primary (manager)", utc(2026, 3, 31, 7), utc(2026, 4, 1, 7)),
    ]
    expected = final_shifts(
        selectors.spec_for(schedule, start=utc(2026, 1, 1), end=utc(2027, 1, 1)).layers,
        [],
        selectors.spec_for(schedule, start=now, end=now + timedelta(1)).tz,
        utc(2026, 3, 28, 8),
        utc(2026, 6, 4, 7),  # the last shift overlaps the window's end (3 June 12:00 UTC)
    )
    assert [(e.decoded("DTSTART"), e.decoded("DTEND")) for e in parsed] == [
        (s.start, s.end) for s in expected
    ]
    for event in parsed:
        assert event.decoded("DTSTART").tzinfo is not None
        assert event.decoded("DTSTART").utcoffset() == timedelta(0)
        assert event.decoded("DTSTAMP") == now


def test_it_keeps_uids_unique_and_stable_as_the_window_moves(schedule, users):
    early = {str(e["UID"]): e for e in events(feed(schedule, utc(2026, 4, 4, 12)))}
    later = {str(e["UID"]): e for e in events(feed(schedule, utc(2026, 4, 5, 18)))}
    assert len(early) == len(events(feed(schedule, utc(2026, 4, 4, 12))))
    common = set(early) & set(later)
    assert len(common) >= 60
    for uid in common:
        assert early[uid].decoded("DTSTART") == later[uid].decoded("DTSTART")
        assert early[uid].decoded("DTEND") == later[uid].decoded("DTEND")
    assert all(uid.endswith("@pagerline.test") for uid in early)


def test_it_shows_an_override_in_the_feed(schedule, users):
    services.override_create(
        schedule=schedule, user=users["viewer"], start=utc(2026, 4, 6, 10), end=utc(2026, 4, 6, 12)
    )
    parsed = spans(events(feed(schedule, utc(2026, 4, 4, 12))))
    assert ("On call: Primary (viewer)", utc(2026, 4, 6, 10), utc(2026, 4, 6, 12)) in parsed
    assert ("On call: Primary (manager)", utc(2026, 4, 6, 7), utc(2026, 4, 6, 10)) in parsed
    assert ("On call: Primary (manager)", utc(2026, 4, 6, 12), utc(2026, 4, 7, 7)) in parsed


def test_it_puts_only_the_users_shifts_in_their_feed(schedule, team, users):
    other = factories.make_schedule(
        team,
        [
            factories.layer(
                "night", [users["viewer"], users["manager"]], handoff_start=datetime(2026, 1, 1, 21)
            )
        ],
        name="Nights",
    )
    now = utc(2026, 4, 4, 12)
    mine = selectors.user_feed_shifts(users["manager"], now=now)
    assert {s.pk for s, _ in mine} == {schedule.pk, other.pk}
    assert all(shift.user == "manager" for _, shift in mine)
    body = ical.build_calendar(
        name="mine",
        shifts=[ical.FeedShift(s.pk, s.name, shift) for s, shift in mine],
        stamp=now,
        domain="pagerline.test",
        with_person=False,
    )
    summaries = {str(e["SUMMARY"]) for e in events(body)}
    assert summaries == {"On call: Primary", "On call: Nights"}


def _rotate(client, url) -> str:
    response = client.post(url)
    assert response.status_code == 200
    match = re.search(r'value="(http[^"]+\.ics)"', response.content.decode())
    assert match, response.content
    return match[1].replace("http://127.0.0.1:8000", "")


def test_it_serves_the_schedule_feed_until_the_url_is_rotated(client, schedule, users):
    client.force_login(users["manager"])
    first = _rotate(client, f"/schedules/{schedule.pk}/ical/rotate")
    client.logout()  # the secret URL is the credential: calendar apps have no session
    before = timezone.now()
    response = client.get(first)
    after = timezone.now()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    parsed = events(response.content)
    # Every shift overlapping the feed window is there, each with its real bounds.
    spec = selectors.spec_for(schedule, start=before, end=after)
    truth = final_shifts(
        spec.layers, [], spec.tz, before - timedelta(days=30), after + timedelta(days=90)
    )
    must = [
        (s.start, s.end)
        for s in truth
        if s.end > after - timedelta(7) and s.start < before + timedelta(60)
    ]
    may = [
        (s.start, s.end)
        for s in truth
        if s.end > before - timedelta(7) and s.start < after + timedelta(60)
    ]
    got = [(e.decoded("DTSTART"), e.decoded("DTEND")) for e in parsed]
    assert set(must) <= set(got) <= set(may)

    client.force_login(users["manager"])
    second = _rotate(client, f"/schedules/{schedule.pk}/ical/rotate")
    client.logout()
    assert second != first
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert schedule.__class__.objects.get().ical_token_hash != second.split("/")[-1][:-4]


def test_it_lets_only_managers_rotate_the_schedule_feed(client, schedule, users):
    client.force_login(users["responder"])
    assert client.post(f"/schedules/{schedule.pk}/ical/rotate").status_code == 403
    client.force_login(users["outsider"])
    assert client.post(f"/schedules/{schedule.pk}/ical/rotate").status_code == 404


def test_it_serves_the_user_feed_until_the_url_is_rotated(client, schedule, users):
    client.force_login(users["responder"])
    first = _rotate(client, "/oncall/me/ical/rotate")
    client.logout()
    response = client.get(first)
    assert response.status_code == 200
    parsed = events(response.content)
    assert parsed and all(str(e["SUMMARY"]) == "On call: Primary" for e in parsed)
    assert all("responder is on call" in str(e["DESCRIPTION"]) for e in parsed)

    client.force_login(users["responder"])
    second = _rotate(client, "/oncall/me/ical/rotate")
    client.logout()
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/ical/schedule/AAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
        "/ical/user/AAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
        "/ical/schedule/short.ics",
        "/ical/user/../../etc/passwd.ics",
    ],
)
def test_it_answers_404_to_unknown_feed_tokens(client, schedule, url):
    assert client.get(url).status_code == 404
