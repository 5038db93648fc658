"""The schedule editor: managers create a schedule and edit its layers in the browser, with a
preview of the next 14 days computed from the unsaved form.

Saving goes through ``services.schedule_create`` / ``schedule_update`` (what the API calls);
the preview judges the same input with ``services.schedule_check`` and draws it with the pure
rotation functions, writing nothing. Overrides are added and removed on the schedule's page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import FieldErrors
from core.fields import form_text
from oncall import charts, permissions, rotation, selectors, services
from oncall.models import Membership, Schedule, Team
from oncall.schedule_form import (
    DAYS,
    FORM_ERRORS,
    EditorState,
    LayerState,
    Parsed,
    RestrictionState,
    field_errors,
    parse,
    state_of,
)

_LABEL = "%a %d %b %H:%M %Z"


@lru_cache(maxsize=1)
def _zone_names() -> list[str]:
    return sorted(available_timezones())


def _local(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime(_LABEL)


def _members(team: Team) -> dict:
    memberships = Membership.objects.filter(team=team).select_related("user")
    users = sorted((m.user for m in memberships), key=lambda user: user.get_username())
    return {user.get_username(): user for user in users}


def _judge(team: Team, parsed: Parsed) -> dict[str, list[str]]:
    """Every message about the posted form: what could not be read, and what the service
    refuses of what could (the same check saving runs)."""
    errors = dict(parsed.errors)
    try:
        services.schedule_check(
            team=team,
            name=parsed.state.name,
            time_zone=parsed.state.time_zone,
            layers=parsed.layers,
            handoff_notice_seconds=parsed.handoff_notice_seconds
            if parsed.handoff_notice_seconds is not None
            else services.DEFAULT_HANDOFF_NOTICE_SECONDS,
        )
    except FieldErrors as exc:
        for key, found in field_errors(exc, parsed.layer_keys).items():
            # What could not be read was checked with a stand-in: its own message stays.
            errors.setdefault(key, found)
    return errors


def _overrides(schedule: Schedule | None, start: datetime, end: datetime) -> tuple:
    if schedule is None:
        return ()
    return selectors.spec_for(schedule, start=start, end=end).overrides


def preview(
    parsed: Parsed, time_zone: str, overrides: tuple[rotation.Override, ...], now: datetime
) -> dict:
    """The timeline, gaps and who is on call now for checked input (pure: nothing is saved)."""
    end = now + selectors.SOON
    tz = ZoneInfo(time_zone)
    figure, gaps, final = charts.schedule_timeline(
        tz_name=time_zone,
        layers=services.rotation_layers(parsed.layers),
        overrides=overrides,
        start=now,
        end=end,
        now=now,
    )
    current = next((s for s in final if s.start <= now < s.end), None)
    return {
        "figure": figure,
        "gaps": [
            {
                "start": gap.start.isoformat(),
                "end": gap.end.isoformat(),
                "label": f"{_local(gap.start, tz)} to {_local(gap.end, tz)}",
            }
            for gap in gaps
        ],
        "oncall": {
            "user": current.user,
            "source": current.source,
            "until": _local(current.end, tz),
        }
        if current
        else None,
        "errors": {},
    }


def _attach(state: EditorState, errors: dict[str, list[str]]) -> None:
    """Hang each message on the layer or restriction it names, for the template."""
    for layer in state.layers:
        prefix = f"layer-{layer.key}"
        layer.errors = {
            key[len(prefix) + 1 :]: found
            for key, found in errors.items()
            if key.startswith(prefix + "-") and "-restriction-" not in key
        }
        layer.errors["layer"] = errors.get(prefix, [])
        for item in layer.restrictions:
            r_prefix = f"{prefix}-restriction-{item.key}-"
            item.errors = {
                key[len(r_prefix) :]: found
                for key, found in errors.items()
                if key.startswith(r_prefix)
            }


def _first_preview(team: Team, schedule: Schedule | None, state: EditorState) -> dict | None:
    """The preview drawn with the page, when the layers and zone as loaded can be drawn."""
    parsed = _parsed_state(state, team)
    if set(_judge(team, parsed)) - {"name"}:
        return None
    now = timezone.now()
    overrides = _overrides(schedule, now, now + selectors.SOON)
    return preview(parsed, state.time_zone, overrides, now)


def _page(request, *, team, schedule, state, errors=None, status=200, others=()):
    errors = errors or {}
    _attach(state, errors)
    data = None if errors else _first_preview(team, schedule, state)
    if schedule is not None:
        action = reverse("schedule-edit", kwargs={"schedule_id": schedule.pk})
        preview_url = reverse("schedule-edit-preview", kwargs={"schedule_id": schedule.pk})
    else:
        action, preview_url = reverse("schedule-new"), reverse("schedule-new-preview")
    blank_layer = LayerState(key="__L__", participants=[""])
    blank_restriction = RestrictionState(key="__R__", days=[0, 1, 2, 3, 4])
    context = {
        "team": team,
        "schedule": schedule,
        "state": state,
        "errors": errors,
        "form_errors": errors.get(FORM_ERRORS, []),
        "members": list(_members(team)),
        "zones": _zone_names(),
        "units": rotation.UNITS,
        "days": DAYS,
        "action": action,
        "preview_url": preview_url,
        "preview": data,
        "blank_layer": blank_layer,
        "blank_restriction": blank_restriction,
        "other_teams": others,
    }
    return render(request, "oncall/schedule_form.html", context, status=status)


def _parsed_state(state: EditorState, team: Team) -> Parsed:
    """A saved schedule's state as checked input, for the page's first preview."""
    data = QueryDict(mutable=True)
    data.update({"name": state.name, "time_zone": state.time_zone})
    for layer in state.layers:
        prefix = f"layer-{layer.key}"
        data.appendlist("layer", layer.key)
        data.setlist(f"{prefix}-participant", layer.participants)
        data.update(
            {
                f"{prefix}-name": layer.name,
                f"{prefix}-unit": layer.unit,
                f"{prefix}-every": layer.every,
                f"{prefix}-handoff": layer.handoff,
                f"{prefix}-end": layer.end,
            }
        )
        for item in layer.restrictions:
            r_prefix = f"{prefix}-restriction-{item.key}"
            data.appendlist(f"{prefix}-restriction", item.key)
            data.setlist(f"{r_prefix}-day", [str(day) for day in item.days])
            data.update({f"{r_prefix}-start": item.start, f"{r_prefix}-end": item.end})
    return parse(data, members=_members(team))


def _first_state(request, team: Team) -> EditorState:
    """A new schedule starts with one weekly layer handing off last Monday 09:00 (so the
    preview shows someone on call now), with the manager in it if they are a member."""
    local = timezone.now().astimezone(ZoneInfo(team.time_zone)).replace(tzinfo=None)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    if monday > local:
        monday -= timedelta(weeks=1)
    me = request.user.get_username()
    return EditorState(
        time_zone=team.time_zone,
        layers=[
            LayerState(
                key="0",
                name="Primary",
                participants=[me] if me in _members(team) else [""],
                handoff=monday.strftime("%Y-%m-%dT%H:%M"),
            )
        ],
    )


def _posted_team(request) -> Team:
    team = selectors.teams_for(request.user).filter(slug=form_text(request.POST, "team")).first()
    if team is None:
        raise Http404("no such team")
    if not permissions.can_manage(request.user, team):
        raise PermissionDenied("only the team's managers create its schedules")
    return team


def _managed(request, schedule_id: int) -> Schedule:
    try:
        schedule = selectors.schedule_for(request.user, schedule_id)
    except Schedule.DoesNotExist:
        raise Http404("no such schedule") from None
    if not permissions.can_manage(request.user, schedule.team_id):
        raise PermissionDenied("only the team's managers change its schedules")
    return schedule


def _notice(parsed: Parsed, default: int) -> int:
    return default if parsed.handoff_notice_seconds is None else parsed.handoff_notice_seconds


@login_required
@require_http_methods(["GET", "POST"])
def schedule_new(request):
    if request.method == "GET":
        managed = list(selectors.managed_teams(request.user))
        if not managed:
            raise PermissionDenied("only team managers create schedules")
        wanted = request.GET.get("team")
        team = next((t for t in managed if t.slug == wanted), managed[0])
        others = [t for t in managed if t.pk != team.pk]
        return _page(
            request, team=team, schedule=None, state=_first_state(request, team), others=others
        )
    team = _posted_team(request)
    parsed = parse(request.POST, members=_members(team))
    errors = _judge(team, parsed)
    if not errors:
        try:
            schedule = services.schedule_create(
                team=team,
                name=parsed.state.name,
                time_zone=parsed.state.time_zone,
                layers=parsed.layers,
                handoff_notice_seconds=_notice(parsed, services.DEFAULT_HANDOFF_NOTICE_SECONDS),
            )
        except FieldErrors as exc:  # changed between the check and the save
            errors = field_errors(exc, parsed.layer_keys)
        else:
            messages.success(request, f"Schedule {schedule.name} created.")
            return redirect("schedule-detail", schedule_id=schedule.pk)
    return _page(request, team=team, schedule=None, state=parsed.state, errors=errors, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request, schedule_id: int):
    schedule = _managed(request, schedule_id)
    team = schedule.team
    if request.method == "GET":
        loaded = selectors.with_layers(Schedule.objects.filter(pk=schedule.pk)).get()
        return _page(request, team=team, schedule=schedule, state=state_of(loaded))
    parsed = parse(request.POST, members=_members(team))
    errors = _judge(team, parsed)
    if not errors:
        try:
            services.schedule_update(
                schedule=schedule,
                name=parsed.state.name,
                time_zone=parsed.state.time_zone,
                layers=parsed.layers,
                handoff_notice_seconds=_notice(parsed, schedule.handoff_notice_seconds),
            )
        except FieldErrors as exc:
            errors = field_errors(exc, parsed.layer_keys)
        else:
            messages.success(request, f"Schedule {parsed.state.name.strip()} saved.")
            return redirect("schedule-detail", schedule_id=schedule.pk)
    return _page(
        request, team=team, schedule=schedule, state=parsed.state, errors=errors, status=400
    )


@login_required
@require_POST
def schedule_delete(request, schedule_id: int):
    """Delete a schedule with its layers and overrides; escalation steps that paged it show
    it as gone (they hold its id, not a key) and page nobody through it."""
    schedule = _managed(request, schedule_id)
    services.schedule_delete(schedule=schedule)
    messages.success(request, f"Schedule {schedule.name} deleted.")
    return redirect("schedule-list")


def _preview_response(team: Team, schedule: Schedule | None, data) -> JsonResponse:
    parsed = parse(data, members=_members(team))
    errors = _judge(team, parsed)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    now = timezone.now()
    overrides = _overrides(schedule, now, now + selectors.SOON)
    return JsonResponse(preview(parsed, parsed.state.time_zone, overrides, now))


@login_required
@require_POST
def schedule_new_preview(request):
    """The unsaved new schedule's next 14 days, or 400 with messages by input name."""
    return _preview_response(_posted_team(request), None, request.POST)


@login_required
@require_POST
def schedule_edit_preview(request, schedule_id: int):
    """The edited schedule's next 14 days as it would be saved (with its overrides)."""
    schedule = _managed(request, schedule_id)
    return _preview_response(schedule.team, schedule, request.POST)
