"""Storage rules: wall-clock fields stay wall-clock, the database refuses impossible rows,
profiles appear on first use."""

from datetime import UTC, date, datetime, time

import pytest
from django.db import IntegrityError

from core.errors import FieldErrors
from oncall import services
from oncall.models import Layer, Override, UserProfile
from oncall.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(team, users):
    return factories.make_schedule(
        team,
        [
            factories.layer(
                "primary",
                [users["manager"], users["responder"], users["manager"]],
                handoff_start=datetime(2026, 3, 29, 2, 30),  # does not exist in Berlin
            )
        ],
    )


def test_it_stores_the_handoff_as_the_wall_time_it_was_given(schedule):
    layer = Layer.objects.get(schedule=schedule)
    assert (layer.handoff_date, layer.handoff_time) == (date(2026, 3, 29), time(2, 30))
    assert [m.user.username for m in layer.memberships.order_by("position")] == [
        "manager",
        "responder",
        "manager",
    ]


def test_it_refuses_an_override_that_ends_before_it_starts(schedule, users):
    with pytest.raises(IntegrityError):
        Override.objects.create(
            schedule=schedule,
            user=users["viewer"],
            start=datetime(2026, 3, 29, 10, tzinfo=UTC),
            end=datetime(2026, 3, 29, 9, tzinfo=UTC),
        )


def test_it_refuses_half_a_layer_end(schedule):
    layer = Layer.objects.get(schedule=schedule)
    layer.end_date = date(2026, 4, 1)
    with pytest.raises(IntegrityError):
        layer.save()


def test_it_creates_a_profile_once_on_first_use(users):
    user = users["viewer"]
    assert not UserProfile.objects.filter(user=user).exists()
    profile = services.profile_for(user=user)
    assert profile.time_zone == "UTC"
    assert services.profile_for(user=user).pk == profile.pk
    assert UserProfile.objects.filter(user=user).count() == 1


def test_it_refuses_an_unknown_profile_time_zone(users):
    with pytest.raises(FieldErrors) as caught:
        services.profile_update(user=users["viewer"], time_zone="Europe/Atlantis")
    assert "time_zone" in caught.value.errors
    services.profile_update(user=users["viewer"], time_zone="Asia/Kolkata")
    assert UserProfile.objects.get(user=users["viewer"]).time_zone == "Asia/Kolkata"


def test_it_takes_a_deleted_user_out_of_the_rotation(schedule, users):
    users["responder"].delete()
    layer = Layer.objects.get(schedule=schedule)
    assert [m.user.username for m in layer.memberships.order_by("position")] == [
        "manager",
        "manager",
    ]
