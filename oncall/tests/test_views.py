"""Schedule pages: list, detail with timeline and gaps, override forms, the user's own page.

Pages show "now", so these schedules are built around the real current date."""

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from oncall.models import Override, UserProfile
from oncall.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(team, users):
    """Berlin; daily 09:00 handoffs between manager and responder since a week ago, in a
    layer that ends in 3 days: one coverage gap from then on."""
    today = timezone.now().astimezone(ZoneInfo("Europe/Berlin")).date()
    week_ago = datetime.combine(today - timedelta(days=7), datetime.min.time()).replace(hour=9)
    return factories.make_schedule(
        team,
        [
            factories.layer(
                "primary",
                [users["manager"], users["responder"]],
                handoff_start=week_ago,
                end=week_ago + timedelta(days=10),
            ),
        ],
    )


def test_it_needs_a_login_for_pages(client, schedule):
    for url in ("/schedules/", f"/schedules/{schedule.pk}/", "/oncall/me/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_it_lists_who_is_on_call_and_flags_gaps(client, users, schedule):
    client.force_login(users["viewer"])
    response = client.get("/schedules/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/schedules/"' in body  # nav link
    row = re.search(rf'<tr data-schedule="{schedule.pk}">(.*?)</tr>', body, re.S)[1]
    assert re.search(r'data-role="oncall">(manager|responder)<', row)
    assert "1 coverage gap" in row


def test_it_shows_outsiders_no_schedules_and_404s(client, users, schedule):
    client.force_login(users["outsider"])
    assert f'data-schedule="{schedule.pk}"' not in client.get("/schedules/").content.decode()
    assert client.get(f"/schedules/{schedule.pk}/").status_code == 404
    assert client.get(f"/schedules/{schedule.pk}/timeline.json").status_code == 404


def test_it_keeps_the_list_query_count_flat_as_schedules_grow(
    client, team, users, schedule, django_assert_max_num_queries
):
    client.force_login(users["viewer"])
    with django_assert_max_num_queries(20) as one:
        client.get("/schedules/")
    count = len(one.captured_queries)
    for index in range(5):
        factories.make_schedule(
            team,
            [factories.layer("l", [users["manager"]], handoff_start=datetime(2026, 1, 1, 9))],
            name=f"extra {index}",
        )
    with django_assert_max_num_queries(count):
        client.get("/schedules/")


def test_it_shows_the_timeline_gaps_and_notes_on_the_schedule_page(client, users, schedule):
    client.force_login(users["viewer"])
    response = client.get(f"/schedules/{schedule.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    figure = json.loads(re.search(r'id="timeline-figure"[^>]*>(.*?)</script>', body, re.S)[1])
    rows = figure["layout"]["yaxis"]["categoryarray"]
    assert rows == ["1. primary", "Overrides", "Final schedule"]
    assert any(trace["name"] == "Nobody on call" for trace in figure["data"])
    assert "/static/plotly/plotly.min.js" in body
    assert "/static/js/schedule.js" in body
    assert 'data-role="gaps"' in body and "Coverage gaps" in body
    assert "the one created last wins" in body
    assert "Add an override" not in body  # viewers read only
    assert "Rotate feed URL" not in body and "Create feed URL" not in body


def test_it_serves_the_timeline_json_the_page_polls(client, users, schedule):
    client.force_login(users["viewer"])
    data = client.get(f"/schedules/{schedule.pk}/timeline.json").json()
    assert data["oncall"]["user"] in {"manager", "responder"}
    assert data["figure"]["layout"]["yaxis"]["categoryarray"][-1] == "Final schedule"
    assert len(data["gaps"]) == 1


def test_the_polled_on_call_line_reads_as_the_first_render_did(client, users, schedule):
    """schedule.js redraws "on call now" from timeline.json every minute: the bounds come
    written in the schedule's time zone, exactly as the page wrote them at first."""
    client.force_login(users["viewer"])
    page = client.get(f"/schedules/{schedule.pk}/").content.decode()
    oncall = client.get(f"/schedules/{schedule.pk}/timeline.json").json()["oncall"]
    line = re.search(r'data-role="oncall-now">(.*?)</p>', page, re.S)[1]
    assert f"since {oncall['since']} until {oncall['until']}" in " ".join(line.split())
    assert oncall["until"].endswith(("CET", "CEST"))  # Berlin's, not the browser's zone


def _form_user_choices(body: str) -> list[str]:
    select = re.search(r'<select name="user"[^>]*>(.*?)</select>', body, re.S)[1]
    return re.findall(r'<option value="([^"]+)"', select)


def test_it_offers_responders_only_themselves_and_managers_anyone(client, users, schedule):
    client.force_login(users["responder"])
    assert _form_user_choices(client.get(f"/schedules/{schedule.pk}/").content.decode()) == [
        "responder"
    ]
    client.force_login(users["manager"])
    body = client.get(f"/schedules/{schedule.pk}/").content.decode()
    assert _form_user_choices(body) == ["manager", "responder", "viewer"]
    assert "Create feed URL" in body


def test_it_reads_form_times_in_the_schedules_zone(client, users, schedule):
    client.force_login(users["responder"])
    response = client.post(
        f"/schedules/{schedule.pk}/overrides/add",
        # 02:30 on 29 March 2026 does not exist in Berlin: it means 03:00 CEST (01:00 UTC).
        {"user": "responder", "start": "2026-03-29T02:30", "end": "2026-03-29T09:00"},
    )
    assert response.status_code == 302
    override = Override.objects.get()
    assert override.start == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert override.end == datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert (override.user, override.created_by) == (users["responder"], users["responder"])


def test_it_refuses_a_responders_override_for_someone_else(client, users, schedule):
    client.force_login(users["responder"])
    response = client.post(
        f"/schedules/{schedule.pk}/overrides/add",
        {"user": "viewer", "start": "2026-04-01T10:00", "end": "2026-04-01T12:00"},
    )
    assert response.status_code == 400
    assert Override.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start": "2026-04-01T12:00", "end": "2026-04-01T10:00"}, "must end after it starts"),
        ({"start": "not a time", "end": "2026-04-01T10:00"}, "Enter a date and time"),
        ({"start": "2026-04-01T10:00", "end": "2026-04-01T12:00", "replaces": "manager"}, None),
    ],
)
def test_it_shows_what_is_wrong_in_the_form(client, users, schedule, data, message):
    client.force_login(users["manager"])
    response = client.post(f"/schedules/{schedule.pk}/overrides/add", {"user": "viewer", **data})
    if message is None:
        assert response.status_code == 302
        assert Override.objects.get().replaces == users["manager"]
        return
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Override.objects.count() == 0


def test_it_refuses_overrides_posted_by_viewers(client, users, schedule):
    client.force_login(users["viewer"])
    response = client.post(
        f"/schedules/{schedule.pk}/overrides/add",
        {"user": "viewer", "start": "2026-04-01T10:00", "end": "2026-04-01T12:00"},
    )
    assert response.status_code == 403
    assert Override.objects.count() == 0


def test_it_lets_the_person_or_a_manager_remove_an_override(client, users, schedule):
    now = timezone.now()
    theirs, managers = (
        factories.make_override(schedule, users[who], start=now, end=now + timedelta(hours=2))
        for who in ("responder", "manager")
    )
    client.force_login(users["responder"])
    body = client.get(f"/schedules/{schedule.pk}/").content.decode()
    assert f"/overrides/{theirs.pk}/remove" in body
    assert f"/overrides/{managers.pk}/remove" not in body
    refused = client.post(f"/schedules/{schedule.pk}/overrides/{managers.pk}/remove")
    assert refused.status_code == 403
    client.post(f"/schedules/{schedule.pk}/overrides/{theirs.pk}/remove")
    assert list(Override.objects.all()) == [managers]
    client.force_login(users["manager"])
    client.post(f"/schedules/{schedule.pk}/overrides/{managers.pk}/remove")
    assert not Override.objects.exists()


def test_it_lists_my_shifts_in_my_time_zone(client, users, schedule):
    client.force_login(users["manager"])
    response = client.post("/oncall/me/profile", {"time_zone": "Asia/Kolkata"})
    assert response.status_code == 302
    assert UserProfile.objects.get(user=users["manager"]).time_zone == "Asia/Kolkata"
    body = client.get("/oncall/me/").content.decode()
    shifts = re.search(r'<tbody data-role="my-shifts">(.*?)</tbody>', body, re.S)[1]
    # 09:00 Berlin handoffs are 13:30 or 12:30 in Kolkata (summer or winter time in Berlin).
    assert re.search(r"1[23]:30 IST", shifts)
    assert shifts.count("<tr>") >= 1


def test_it_refuses_an_unknown_time_zone(client, users):
    client.force_login(users["viewer"])
    client.post("/oncall/me/profile", {"time_zone": "Mars/Olympus"})
    assert not UserProfile.objects.filter(user=users["viewer"], time_zone="Mars/Olympus").exists()
    assert "Choose a time zone" in client.get("/oncall/me/").content.decode()
