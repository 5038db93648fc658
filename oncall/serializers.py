"""Shapes of the schedules API: parse JSON into service arguments, and render rows as JSON.

Parsing only (types, formats, day names, usernames that exist); the rules about what makes a
schedule valid (team membership, layer end after first handoff, ...) are in services.
"""

from __future__ import annotations

from datetime import datetime, time

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import AwareDateTimeField, utc_iso
from oncall import rotation, services
from oncall.models import Layer, Override, Schedule

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class StrictSerializer(serializers.Serializer):
    """Rejects unknown keys, so a typo ("restriction") is a 400, not silently ignored.
    ``output_only`` keys (what GET adds, like "id") are accepted and ignored, so a GET body
    can be edited and PUT back."""

    output_only: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields) - self.output_only)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "example": "2026-03-23T09:00"})
class LocalDateTimeField(serializers.Field):
    """A wall-clock time in the schedule's zone, e.g. "2026-03-23T09:00", no UTC offset."""

    default_error_messages = {
        "invalid": "Use a local date and time like 2026-03-23T09:00.",
        "offset": "Give a local wall-clock time without a UTC offset; "
        "the schedule's time_zone applies.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = datetime.fromisoformat(data)
        except ValueError:
            self.fail("invalid")
        if value.tzinfo is not None:
            self.fail("offset")
        return value

    def to_representation(self, value: datetime) -> str:
        return value.isoformat(timespec="seconds" if value.second else "minutes")


@extend_schema_field({"type": "string", "example": "09:00"})
class WallTimeField(serializers.Field):
    default_error_messages = {"invalid": "Use a local time like 09:00 (HH:MM)."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = time.fromisoformat(data)
        except ValueError:
            self.fail("invalid")
        if value.tzinfo is not None:
            self.fail("invalid")
        return value

    def to_representation(self, value: time) -> str:
        return value.strftime("%H:%M")


class RestrictionSerializer(StrictSerializer):
    days = serializers.ListField(child=serializers.ChoiceField(DAY_NAMES), allow_empty=False)
    start = WallTimeField()
    end = WallTimeField()

    def validate(self, attrs):
        if attrs["start"] == attrs["end"]:
            raise serializers.ValidationError(
                {"end": ["Equal to start; omit restrictions to be on call around the clock."]}
            )
        return attrs


class RotationSerializer(StrictSerializer):
    unit = serializers.ChoiceField(rotation.UNITS)
    every = serializers.IntegerField(min_value=1, max_value=services.MAX_ROTATION_EVERY)


class LayerSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    participants = serializers.ListField(
        child=serializers.CharField(max_length=150), allow_empty=False
    )
    rotation = RotationSerializer()
    handoff_start = LocalDateTimeField()
    restrictions = RestrictionSerializer(many=True, required=False)
    end = LocalDateTimeField(required=False, allow_null=True)


class ScheduleInputSerializer(StrictSerializer):
    """POST / PUT / PATCH body; ``validated_data["layer_specs"]`` is ready for the services."""

    output_only = frozenset({"id", "url"})

    team = serializers.SlugField(required=False)
    name = serializers.CharField(max_length=200)
    time_zone = serializers.CharField(max_length=64)
    handoff_notice_seconds = serializers.IntegerField(
        min_value=0, max_value=services.MAX_HANDOFF_NOTICE_SECONDS, required=False
    )
    layers = LayerSerializer(many=True)

    def validate_time_zone(self, value: str) -> str:
        if not services.is_time_zone(value):
            raise serializers.ValidationError(
                f"Unknown IANA time zone {value!r} (e.g. 'Europe/Berlin')."
            )
        return value

    def validate(self, attrs):
        layers = attrs.pop("layers", None)
        if layers is None:
            return attrs
        wanted = {name for layer in layers for name in layer["participants"]}
        users = {
            user.get_username(): user
            for user in get_user_model().objects.filter(username__in=wanted)
        }
        errors = {}
        for index, layer in enumerate(layers):
            unknown = [name for name in layer["participants"] if name not in users]
            if unknown:
                errors[index] = {"participants": [f"Unknown user: {', '.join(unknown)}."]}
        if errors:
            raise serializers.ValidationError({"layers": errors})
        attrs["layer_specs"] = [
            services.LayerSpec(
                name=layer["name"],
                participants=tuple(users[name] for name in layer["participants"]),
                unit=layer["rotation"]["unit"],
                every=layer["rotation"]["every"],
                handoff_start=layer["handoff_start"],
                restrictions=tuple(
                    services.RestrictionSpec(
                        days=tuple(DAY_NAMES.index(day) for day in item["days"]),
                        start=item["start"],
                        end=item["end"],
                    )
                    for item in layer.get("restrictions", [])
                ),
                end=layer.get("end"),
            )
            for layer in layers
        ]
        return attrs


class SchedulePatchSerializer(ScheduleInputSerializer):
    """PATCH: every key optional, but ``layers``, when given, are complete (they replace all)."""

    name = serializers.CharField(max_length=200, required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    layers = LayerSerializer(many=True, required=False)


# --- output: what the API answers (the *_json functions build it; these describe it) ----------


class LayerOut(LayerSerializer):
    """A layer as the API shows it: the shape PUT takes, with every key present."""

    restrictions = RestrictionSerializer(many=True)
    end = LocalDateTimeField(allow_null=True)


class ScheduleOut(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    team = serializers.SlugField()
    name = serializers.CharField()
    time_zone = serializers.CharField(help_text="IANA time zone, e.g. Europe/Berlin")
    handoff_notice_seconds = serializers.IntegerField()
    layers = LayerOut(many=True)
    url = serializers.CharField(read_only=True, help_text="the schedule's page")


class OverrideOut(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    user = serializers.CharField(help_text="username")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    replaces = serializers.CharField(
        allow_null=True, help_text="username: only where they are on call; null: throughout"
    )
    created_at = serializers.DateTimeField(read_only=True)
    created_by = serializers.CharField(allow_null=True, read_only=True, help_text="username")


class OncallOut(serializers.Serializer):
    at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True, help_text="username; null when nobody is")
    source = serializers.CharField(allow_null=True, help_text='a layer\'s name or "override"')
    shift_start = serializers.DateTimeField(allow_null=True)
    shift_end = serializers.DateTimeField(allow_null=True)


def layer_json(layer: Layer) -> dict:
    """A layer as the API shows it (same shape the API accepts, so GET output can be PUT)."""
    return {
        "name": layer.name,
        "participants": [m.user.get_username() for m in layer.memberships.all()],
        "rotation": {"unit": layer.rotation_unit, "every": layer.rotation_every},
        "handoff_start": LocalDateTimeField().to_representation(
            datetime.combine(layer.handoff_date, layer.handoff_time)
        ),
        "restrictions": [
            {
                "days": [DAY_NAMES[day] for day in item["days"]],
                "start": item["start"],
                "end": item["end"],
            }
            for item in layer.restrictions
        ],
        "end": LocalDateTimeField().to_representation(
            datetime.combine(layer.end_date, layer.end_time)
        )
        if layer.end_date
        else None,
    }


def schedule_json(schedule: Schedule) -> dict:
    """Needs ``team`` selected and layers prefetched (``selectors.with_layers``)."""
    return {
        "id": schedule.pk,
        "team": schedule.team.slug,
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "handoff_notice_seconds": schedule.handoff_notice_seconds,
        "layers": [layer_json(layer) for layer in schedule.layers.all()],
        "url": f"/schedules/{schedule.pk}/",
    }


class OverrideInputSerializer(StrictSerializer):
    user = serializers.CharField(max_length=150, required=False)
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    replaces = serializers.CharField(max_length=150, required=False, allow_null=True)

    def validate(self, attrs):
        user_model = get_user_model()
        for key in ("user", "replaces"):
            name = attrs.get(key)
            if name is None:
                continue
            try:
                attrs[key] = user_model.objects.get(username=name)
            except user_model.DoesNotExist:
                raise serializers.ValidationError({key: [f"Unknown user: {name}."]}) from None
        return attrs


def override_json(override: Override) -> dict:
    return {
        "id": override.pk,
        "user": override.user.get_username(),
        "start": utc_iso(override.start),
        "end": utc_iso(override.end),
        "replaces": override.replaces.get_username() if override.replaces else None,
        "created_at": utc_iso(override.created_at),
        "created_by": override.created_by.get_username() if override.created_by else None,
    }


def shift_json(shift: rotation.Shift) -> dict:
    return {
        "user": shift.user,
        "start": utc_iso(shift.start),
        "end": utc_iso(shift.end),
        "source": shift.source,
    }
