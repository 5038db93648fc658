"""HTML pages for schedules, the user's own shifts, and the secret iCal feeds."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET, require_POST

from core.errors import FieldErrors
from oncall import charts, ical, permissions, selectors, services
from oncall.forms import OverrideForm, ProfileForm
from oncall.models import Membership, Override, Schedule, UserProfile


def _visible(request, schedule_id: int) -> Schedule:
    try:
        return selectors.schedule_for(request.user, schedule_id)
    except Schedule.DoesNotExist:
        raise Http404("no such schedule") from None


@login_required
@require_GET
def schedule_list(request):
    now = timezone.now()
    gaps = selectors.gaps_soon(request.user, now=now)
    with_gaps = {schedule.pk: holes for schedule, holes in gaps}
    rows = [
        {"schedule": schedule, "shift": shift, "gaps": with_gaps.get(schedule.pk, [])}
        for schedule, shift in selectors.oncall_now(request.user, now=now)
    ]
    can_create = selectors.managed_teams(request.user).exists()
    return render(request, "oncall/schedule_list.html", {"rows": rows, "can_create": can_create})


def _timeline(schedule: Schedule, now: datetime) -> tuple[dict, list]:
    """The 14-day timeline figure and the coverage gaps in it."""
    end = now + selectors.SOON
    spec = selectors.spec_for(schedule, start=now, end=end)
    figure, gaps, _ = charts.schedule_timeline(
        tz_name=schedule.time_zone,
        layers=spec.layers,
        overrides=spec.overrides,
        start=now,
        end=end,
        now=now,
    )
    return figure, gaps


def _oncall_json(shift, time_zone: str) -> dict | None:
    """The shift on call now, with its bounds also as the page writes them (in the schedule's
    time zone, not the browser's), so a refresh shows what the first render showed."""
    if shift is None:
        return None
    tz = ZoneInfo(time_zone)
    return {
        "user": shift.user,
        "source": shift.source,
        "start": shift.start.isoformat(),
        "end": shift.end.isoformat(),
        "since": dateformat.format(shift.start.astimezone(tz), SHIFT_LABEL),
        "until": dateformat.format(shift.end.astimezone(tz), SHIFT_LABEL),
    }


def _override_form(request, schedule: Schedule, data=None) -> OverrideForm | None:
    members = [
        m.user for m in Membership.objects.filter(team=schedule.team_id).select_related("user")
    ]
    if permissions.can_manage(request.user, schedule.team_id):
        choosable = members
    elif permissions.can_respond(request.user, schedule.team_id):
        choosable = [request.user]
    else:
        return None
    choosable = sorted(choosable, key=lambda user: user.get_username())
    return OverrideForm(data, members=members, choosable=choosable, time_zone=schedule.time_zone)


# How the schedule page writes a shift's bounds (templates/oncall/schedule_detail.html uses
# the same format in the schedule's zone); timeline.json gives them so, for schedule.js.
SHIFT_LABEL = "D d M H:i T"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _describe(layer) -> dict:
    """A layer in words for the schedule page."""
    unit = layer.rotation_unit.rstrip("s") if layer.rotation_every == 1 else layer.rotation_unit
    restrictions = [
        f"{', '.join(_DAYS[day] for day in item['days'])} {item['start']}-{item['end']}"
        for item in layer.restrictions
    ]
    return {
        "name": layer.name,
        "participants": [m.user.get_username() for m in layer.memberships.all()],
        "rotation": f"every {layer.rotation_every} {unit}"
        if layer.rotation_every != 1
        else f"every {unit}",
        "handoff": f"{layer.handoff_date:%Y-%m-%d} {layer.handoff_time:%H:%M}",
        "restrictions": restrictions,
        "end": f"{layer.end_date:%Y-%m-%d} {layer.end_time:%H:%M}" if layer.end_date else "",
    }


def _detail_page(request, schedule: Schedule, *, form=None, status: int = 200):
    now = timezone.now()
    schedule = selectors.with_layers(Schedule.objects.select_related("team")).get(pk=schedule.pk)
    figure, gaps = _timeline(schedule, now)
    overrides = [
        (override, permissions.can_override_for(request.user, schedule.team_id, override.user))
        for override in selectors.override_list(schedule, start=now)
    ]
    context = {
        "schedule": schedule,
        "layers": [_describe(layer) for layer in schedule.layers.all()],
        "figure": figure,
        "gaps": gaps,
        "current": selectors.schedule_oncall(schedule, at=now),
        "mine": selectors.upcoming_shifts(request.user, now=now, schedule=schedule),
        "overrides": overrides,
        "form": form if form is not None else _override_form(request, schedule),
        "can_manage": permissions.can_manage(request.user, schedule.team_id),
    }
    return render(request, "oncall/schedule_detail.html", context, status=status)


@login_required
@require_GET
def schedule_detail(request, schedule_id: int):
    return _detail_page(request, _visible(request, schedule_id))


@login_required
@require_GET
def schedule_timeline(request, schedule_id: int):
    """What schedule.js polls to keep the timeline and "on call now" current."""
    schedule = _visible(request, schedule_id)
    now = timezone.now()
    figure, gaps = _timeline(schedule, now)
    return JsonResponse(
        {
            "figure": figure,
            "oncall": _oncall_json(selectors.schedule_oncall(schedule, at=now), schedule.time_zone),
            "gaps": [{"start": g.start.isoformat(), "end": g.end.isoformat()} for g in gaps],
        }
    )


@login_required
@require_POST
def override_add(request, schedule_id: int):
    schedule = _visible(request, schedule_id)
    form = _override_form(request, schedule, request.POST)
    if form is None:
        raise PermissionDenied("viewers cannot add overrides")
    if not form.is_valid():
        return _detail_page(request, schedule, form=form, status=400)
    data = form.cleaned_data
    if data["user"] is None or not permissions.can_override_for(
        request.user, schedule.team_id, data["user"]
    ):
        form.add_error("user", "You may add overrides for yourself only.")
        return _detail_page(request, schedule, form=form, status=400)
    try:
        services.override_create(
            schedule=schedule,
            user=data["user"],
            start=data["start"],
            end=data["end"],
            replaces=data["replaces"],
            created_by=request.user,
        )
    except FieldErrors as exc:
        exc.add_to_form(form)
        return _detail_page(request, schedule, form=form, status=400)
    messages.success(request, f"Override added for {data['user'].get_username()}.")
    return redirect("schedule-detail", schedule_id=schedule.pk)


@login_required
@require_POST
def override_remove(request, schedule_id: int, override_id: int):
    schedule = _visible(request, schedule_id)
    override = Override.objects.filter(schedule=schedule, pk=override_id).select_related("user")
    override = override.first()
    if override is None:
        raise Http404("no such override")
    if not permissions.can_override_for(request.user, schedule.team_id, override.user):
        raise PermissionDenied("you may remove your own overrides only")
    services.override_delete(override=override)
    messages.success(request, "Override removed.")
    return redirect("schedule-detail", schedule_id=schedule.pk)


def _feed_page(request, *, title: str, url: str, back: str):
    return render(request, "oncall/feed_url.html", {"title": title, "url": url, "back": back})


@login_required
@require_POST
def schedule_ical_rotate(request, schedule_id: int):
    """New secret feed URL, shown on this response only; the previous URL stops working."""
    schedule = _visible(request, schedule_id)
    if not permissions.can_manage(request.user, schedule.team_id):
        raise PermissionDenied("only managers rotate the feed")
    token = services.schedule_ical_rotate(schedule=schedule)
    url = settings.PAGERLINE_BASE_URL + reverse("ical-schedule", kwargs={"token": token})
    back = reverse("schedule-detail", kwargs={"schedule_id": schedule.pk})
    return _feed_page(request, title=f"Calendar feed of {schedule.name}", url=url, back=back)


@login_required
@require_GET
def my_oncall(request):
    now = timezone.now()
    profile = UserProfile.objects.filter(user=request.user).first()
    zone = profile.time_zone if profile else "UTC"
    context = {
        "shifts": selectors.upcoming_shifts(request.user, now=now),
        "time_zone": zone,
        "form": ProfileForm(initial={"time_zone": zone}),
        "has_feed": bool(profile and profile.ical_token_hash),
    }
    return render(request, "oncall/me.html", context)


@login_required
@require_POST
def my_profile(request):
    form = ProfileForm(request.POST)
    if form.is_valid():
        services.profile_update(user=request.user, time_zone=form.cleaned_data["time_zone"])
        messages.success(request, "Time zone saved.")
    else:
        messages.error(request, "Choose a time zone from the list.")
    return redirect("oncall-me")


@login_required
@require_POST
def my_ical_rotate(request):
    token = services.user_ical_rotate(user=request.user)
    url = settings.PAGERLINE_BASE_URL + reverse("ical-user", kwargs={"token": token})
    return _feed_page(request, title="Your calendar feed", url=url, back=reverse("oncall-me"))


# --- secret iCal feeds (no login: the token is the credential) ----------------------------------


def _calendar_response(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


def _domain() -> str:
    return urlsplit(settings.PAGERLINE_BASE_URL).hostname or "pagerline"


@require_GET
def schedule_feed(request, token: str):
    schedule = Schedule.objects.filter(ical_token_hash=services.hash_token(token)).first()
    if schedule is None:
        raise Http404("no such feed")
    now = timezone.now()
    shifts = selectors.schedule_feed_shifts(schedule, now=now)
    body = ical.build_calendar(
        name=f"On call: {schedule.name}",
        shifts=[ical.FeedShift(schedule.pk, schedule.name, shift) for shift in shifts],
        stamp=now,
        domain=_domain(),
        with_person=True,
        url=f"{settings.PAGERLINE_BASE_URL}/schedules/{{schedule_id}}/",
    )
    return _calendar_response(body)


@require_GET
def user_feed(request, token: str):
    profile = (
        UserProfile.objects.filter(ical_token_hash=services.hash_token(token))
        .select_related("user")
        .first()
    )
    if profile is None or not profile.user.is_active:
        raise Http404("no such feed")
    now = timezone.now()
    mine = selectors.user_feed_shifts(profile.user, now=now)
    body = ical.build_calendar(
        name=f"On call: {profile.user.get_username()}",
        shifts=[ical.FeedShift(schedule.pk, schedule.name, shift) for schedule, shift in mine],
        stamp=now,
        domain=_domain(),
        with_person=False,
        url=f"{settings.PAGERLINE_BASE_URL}/schedules/{{schedule_id}}/",
    )
    return _calendar_response(body)
