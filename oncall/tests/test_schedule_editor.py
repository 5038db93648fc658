"""The schedule editor pages: managers create and edit schedules in the browser, previewing
the next 14 days of the unsaved form; messages land next to the field they are about.

Previews show "now", so layers here hand off relative to the real current time."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import FieldErrors
from oncall import charts, services
from oncall.models import Layer, Schedule
from oncall.tests import factories

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def _wall(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M")


def _an_hour_ago() -> datetime:
    """Berlin wall clock an hour ago, to the minute: a handoff there started a shift."""
    local = (timezone.now() - timedelta(hours=1)).astimezone(BERLIN)
    return local.replace(tzinfo=None, second=0, microsecond=0)


def _layer(key: str, **given) -> dict:
    fields = {
        "name": f"Layer {key}",
        "participant": ["manager", "responder"],
        "unit": "days",
        "every": "1",
        "handoff": _wall(_an_hour_ago()),
        "end": "",
    }
    windows = given.pop("windows", {})
    fields.update(given)
    data = {"layer": [key]}
    data.update({f"layer-{key}-{name}": value for name, value in fields.items()})
    data[f"layer-{key}-restriction"] = list(windows)
    for r_key, (days, start, end) in windows.items():
        prefix = f"layer-{key}-restriction-{r_key}"
        data.update({f"{prefix}-day": [str(d) for d in days], f"{prefix}-start": start})
        data[f"{prefix}-end"] = end
    return data


def _form(*layers: dict, **fields) -> dict:
    data = {
        "team": "payments",
        "name": "Primary",
        "time_zone": "Europe/Berlin",
        "handoff_notice_minutes": "30",
    }
    data.update(fields)
    data["layer"] = []
    for layer in layers:
        for key, value in layer.items():
            if key == "layer":
                data["layer"] += value
            else:
                data[key] = value
    return data


def _error(body: str, name: str) -> str:
    """The text of the error box next to the input `name` on a rendered page."""
    found = re.search(rf'data-error-for="{re.escape(name)}">([^<]*)<', body)
    assert found, f"no error box for {name}"
    return found[1]


@pytest.fixture
def saved(team, users):
    """A Berlin schedule: one daily layer (manager, responder) handing off an hour ago."""
    return factories.make_schedule(
        team,
        [
            factories.layer(
                "day", [users["manager"], users["responder"]], handoff_start=_an_hour_ago()
            )
        ],
    )


# --- creating -----------------------------------------------------------------------------------


def test_it_offers_managers_a_new_schedule_page_with_a_first_layer(manager_client):
    response = manager_client.get("/schedules/new")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="layer-0-participant"' in body
    assert re.search(r'<option value="manager" selected>', body)
    # The first layer has the manager on call already, so the page draws a preview at once.
    preview = json.loads(re.search(r'id="preview-data"[^>]*>(.*?)</script>', body, re.S)[1])
    assert preview["oncall"]["user"] == "manager"


def test_it_links_managers_to_the_editor_from_the_list(client, users):
    client.force_login(users["manager"])
    assert 'href="/schedules/new"' in client.get("/schedules/").content.decode()
    client.force_login(users["responder"])
    body = client.get("/schedules/").content.decode()
    assert 'href="/schedules/new"' not in body
    assert "Your team's managers create them." in body


def test_it_creates_a_schedule_with_its_layers_in_order(manager_client, team):
    handoff = _an_hour_ago()
    data = _form(
        _layer(
            "b", name="Office", participant=["responder"], windows={"x": ([0, 4], "09:00", "17:00")}
        ),
        _layer("a", name="Night", participant=["responder", "manager"], unit="weeks", every="2"),
        name=" Payments primary ",
        handoff_notice_minutes="15",
    )
    response = manager_client.post("/schedules/new", data)

    schedule = Schedule.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/schedules/{schedule.pk}/"
    assert (schedule.name, schedule.time_zone, schedule.team) == (
        "Payments primary",
        "Europe/Berlin",
        team,
    )
    assert schedule.handoff_notice_seconds == 15 * 60
    office, night = Layer.objects.filter(schedule=schedule).order_by("position")
    assert (office.name, office.restrictions) == (
        "Office",
        [{"days": [0, 4], "start": "09:00", "end": "17:00"}],
    )
    assert [m.user.username for m in night.memberships.order_by("position")] == [
        "responder",
        "manager",
    ]
    assert (night.rotation_unit, night.rotation_every) == ("weeks", 2)
    assert datetime.combine(night.handoff_date, night.handoff_time) == handoff


def test_it_refuses_a_bad_form_with_each_message_next_to_its_field(manager_client):
    data = _form(
        _layer("a", participant=[], every="0", windows={"r": ([1], "09:00", "09:00")}),
        _layer("b", handoff="tomorrow", windows={"s": ([], "25:00", "17:00")}),
        time_zone="Mars/Olympus",
    )
    response = manager_client.post("/schedules/new", data)

    assert response.status_code == 400
    assert not Schedule.objects.exists()
    body = response.content.decode()
    assert "Unknown IANA time zone &#x27;Mars/Olympus&#x27;" in _error(body, "time_zone")
    assert _error(body, "layer-a-participants") == "A layer needs at least one participant."
    assert "at least 1" in _error(body, "layer-a-every")
    assert "start and end are equal" in _error(body, "layer-a-restrictions")
    assert "Enter a date and time" in _error(body, "layer-b-handoff")
    assert _error(body, "layer-b-restriction-s-days") == "Tick at least one day."
    assert "Enter a time" in _error(body, "layer-b-restriction-s-start")
    # The form comes back as it was sent, so nothing typed is lost.
    assert 'value="tomorrow"' in body
    assert 'name="layer-b-restriction-s-start" value="25:00"' in body


def test_it_refuses_a_layer_end_before_its_first_handoff(manager_client):
    handoff = _an_hour_ago()
    data = _form(_layer("a", handoff=_wall(handoff), end=_wall(handoff - timedelta(days=1))))
    response = manager_client.post("/schedules/new/preview", data)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "layer-a-end": ["The layer must end after its first handoff."]
    }


def test_it_refuses_participants_outside_the_team(manager_client, users):
    response = manager_client.post("/schedules/new", _form(_layer("a", participant=["outsider"])))
    assert response.status_code == 400
    assert "Not a member of team" in _error(response.content.decode(), "layer-a-participants")


# --- the preview --------------------------------------------------------------------------------


def test_the_preview_answers_the_shifts_of_the_unsaved_form(manager_client):
    handoff = _an_hour_ago()
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.post("/schedules/new/preview", _form(_layer("a")))

    assert response.status_code == 200
    data = response.json()
    assert data["oncall"]["user"] == "manager"
    assert data["oncall"]["source"] == "Layer a"
    assert data["gaps"] == []
    # The final row: manager from now, responder from the next handoff, a day after the last.
    final = {
        trace["name"]: trace["base"]
        for trace in data["figure"]["data"]
        for row, base in zip(trace["y"], trace["base"], strict=True)
        if row == charts.FINAL_ROW
    }
    assert final["responder"][0] == (handoff + timedelta(days=1)).isoformat()
    assert final["manager"][1] == (handoff + timedelta(days=2)).isoformat()
    assert not Schedule.objects.exists()
    writes = [q["sql"] for q in queries if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"], re.I)]
    assert writes == [], writes


def test_the_preview_highlights_coverage_gaps(manager_client):
    office = _layer(
        "a", participant=["responder"], windows={"w": ([0, 1, 2, 3, 4], "09:00", "17:00")}
    )
    data = manager_client.post("/schedules/new/preview", _form(office)).json()

    assert len(data["gaps"]) >= 9  # at least every night and weekend of two weeks
    gap_traces = [t for t in data["figure"]["data"] if t["name"] == "Nobody on call"]
    assert len(gap_traces) == 1
    assert set(gap_traces[0]["y"]) == {charts.FINAL_ROW}
    assert len(gap_traces[0]["base"]) == len(data["gaps"])


def test_the_preview_answers_400_with_messages_by_input_name(manager_client):
    data = _form(_layer("a", participant=[], unit="fortnights", every="x"), time_zone="Nowhere")
    response = manager_client.post("/schedules/new/preview", data)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"time_zone", "layer-a-participants", "layer-a-unit", "layer-a-every"}
    assert "Unknown IANA time zone 'Nowhere'" in errors["time_zone"][0]


def test_the_preview_refuses_out_of_range_numbers_by_name(manager_client):
    data = _form(_layer("a", every="99999999999"), handoff_notice_minutes="-5")
    response = manager_client.post("/schedules/new/preview", data)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "layer-a-every": ["every must be at most 10000."],
        "handoff_notice_minutes": ["Must be between 0 (off) and 10080 minutes."],
    }


def test_it_answers_400_to_a_nul_character_in_any_field(manager_client):
    for field in ("name", "layer-a-name", "layer-a-participant"):
        data = _form(_layer("a"))
        data[field] = "x\x00y"
        assert manager_client.post("/schedules/new", data).status_code == 400
        assert manager_client.post("/schedules/new/preview", data).status_code == 400
    assert not Schedule.objects.exists()


def test_the_edit_preview_includes_the_schedules_overrides(manager_client, saved, users):
    now = timezone.now()
    factories.make_override(
        saved, users["viewer"], start=now - timedelta(minutes=5), end=now + timedelta(hours=2)
    )
    data = _form(_layer("a", participant=["responder"]))
    response = manager_client.post(f"/schedules/{saved.pk}/edit/preview", data)

    assert response.status_code == 200
    assert response.json()["oncall"]["user"] == "viewer"
    assert response.json()["oncall"]["source"] == "override"
    assert list(saved.layers.values_list("name", flat=True)) == ["day"]  # unchanged


# --- editing ------------------------------------------------------------------------------------


def test_it_shows_the_saved_layers_in_the_editor(manager_client, saved):
    response = manager_client.get(f"/schedules/{saved.pk}/edit")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="layer-0-name" value="day"' in body
    assert f'action="/schedules/{saved.pk}/edit"' in body
    detail = manager_client.get(f"/schedules/{saved.pk}/").content.decode()
    assert f'href="/schedules/{saved.pk}/edit"' in detail


def test_it_saves_edited_layers_and_keeps_the_overrides(manager_client, saved, users):
    now = timezone.now()
    override = factories.make_override(
        saved, users["viewer"], start=now + timedelta(days=1), end=now + timedelta(days=2)
    )
    data = _form(
        _layer("z", name="Follow the sun", participant=["viewer"], unit="hours", every="8"),
        _layer("0", name="day", participant=["responder", "manager"]),
        name="Renamed",
        time_zone="America/New_York",
    )
    response = manager_client.post(f"/schedules/{saved.pk}/edit", data)

    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.name, saved.time_zone) == ("Renamed", "America/New_York")
    assert list(saved.layers.order_by("position").values_list("name", flat=True)) == [
        "Follow the sun",
        "day",
    ]
    assert list(saved.overrides.all()) == [override]


def test_it_keeps_the_saved_schedule_when_an_edit_is_refused(manager_client, saved):
    response = manager_client.post(
        f"/schedules/{saved.pk}/edit", _form(_layer("0", name="", participant=[]))
    )
    assert response.status_code == 400
    assert _error(response.content.decode(), "layer-0-name") == "A layer needs a name."
    assert list(saved.layers.values_list("name", flat=True)) == ["day"]


def test_a_manager_deletes_a_schedule_from_the_editor(manager_client, saved):
    assert (
        f'action="/schedules/{saved.pk}/delete"'
        in manager_client.get(f"/schedules/{saved.pk}/edit").content.decode()
    )
    response = manager_client.post(f"/schedules/{saved.pk}/delete", follow=True)
    assert response.redirect_chain == [("/schedules/", 302)]
    assert "Schedule Primary deleted." in response.content.decode()
    assert not Schedule.objects.exists()


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["responder", "viewer"])
def test_members_who_do_not_manage_only_read(client, users, saved, role):
    client.force_login(users[role])
    assert client.get(f"/schedules/{saved.pk}/").status_code == 200
    assert (
        f'href="/schedules/{saved.pk}/edit"'
        not in client.get(f"/schedules/{saved.pk}/").content.decode()
    )
    assert client.get(f"/schedules/{saved.pk}/edit").status_code == 403
    assert client.post(f"/schedules/{saved.pk}/edit", _form(_layer("a"))).status_code == 403
    assert client.post(f"/schedules/{saved.pk}/edit/preview", _form(_layer("a"))).status_code == 403
    assert client.get("/schedules/new").status_code == 403
    assert client.post("/schedules/new", _form(_layer("a"))).status_code == 403
    assert client.post("/schedules/new/preview", _form(_layer("a"))).status_code == 403
    assert client.post(f"/schedules/{saved.pk}/delete").status_code == 403
    assert list(saved.layers.values_list("name", flat=True)) == ["day"]
    assert Schedule.objects.count() == 1


def test_outsiders_get_404_for_another_teams_schedule(client, users, saved):
    client.force_login(users["outsider"])  # manages another team
    assert client.get(f"/schedules/{saved.pk}/edit").status_code == 404
    assert client.post(f"/schedules/{saved.pk}/edit", _form(_layer("a"))).status_code == 404
    assert client.post(f"/schedules/{saved.pk}/edit/preview", _form(_layer("a"))).status_code == 404
    assert client.post("/schedules/new", _form(_layer("a"))).status_code == 404
    assert client.post("/schedules/new/preview", _form(_layer("a"))).status_code == 404
    assert client.post(f"/schedules/{saved.pk}/delete").status_code == 404
    assert Schedule.objects.count() == 1
    # Their own team is what the new page offers them.
    assert "Team Other team" in client.get("/schedules/new").content.decode()


# --- the service the editor shares with the API --------------------------------------------------


def test_schedule_check_refuses_what_saving_refuses_and_writes_nothing(team, users):
    spec = factories.layer(
        "night",
        [users["responder"]],
        handoff_start=datetime(2026, 3, 1, 9),
        restrictions=[((4,), (22, 0), (22, 0))],
    )
    for call in (services.schedule_check, services.schedule_create):
        with pytest.raises(FieldErrors) as refused:
            call(team=team, name="Night", time_zone="Europe/Berlin", layers=[spec])
        assert "start and end are equal" in refused.value.errors["layers"][0]["restrictions"][0]
    assert not Schedule.objects.exists()

    overnight = factories.layer(
        "night",
        [users["responder"]],
        handoff_start=datetime(2026, 3, 1, 9),
        restrictions=[((4,), (22, 0), (6, 0))],
    )
    services.schedule_check(team=team, name="Night", time_zone="Europe/Berlin", layers=[overnight])
    (layer,) = services.rotation_layers([overnight])
    assert layer.restrictions[0].end == time(6)
    assert not Schedule.objects.exists()
