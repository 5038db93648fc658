"""Drill pages: the list, the create form (managers), the review, and the buttons that drive
a drill or attach / detach incidents (responders). Every write goes through metrics.drills."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.fields import MAX_STORED_INT
from incidents.models import Service
from metrics import charts, definitions, drills, selectors_drills
from metrics.models import Drill, DrillService
from metrics.report_math import fmt_duration
from oncall import permissions
from oncall.selectors import managed_teams

MAX_TARGET_MINUTES = MAX_STORED_INT // 60  # a target is stored in seconds


def _visible(request, drill_id: int) -> Drill:
    try:
        return selectors_drills.drill_for(request.user, drill_id)
    except Drill.DoesNotExist:
        raise Http404("no such drill") from None


@login_required
@require_GET
def drill_list(request):
    drills_qs = selectors_drills.drill_list(request.user).order_by("-created_at", "-pk")[:200]
    return render(
        request,
        "metrics/drill_list.html",
        {"drills": drills_qs, "can_create": managed_teams(request.user).exists()},
    )


class DrillForm(forms.Form):
    name = forms.CharField(max_length=200)
    scenario = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    grace_minutes = forms.IntegerField(
        min_value=0,
        max_value=7 * 24 * 60,
        initial=15,
        help_text="alerts this long after a restore still belong to the drill",
    )


def _target_specs(request, services: list[Service]) -> tuple[list[drills.TargetSpec], dict]:
    """The services ticked in the form and their targets (entered in minutes)."""
    specs, errors = [], {}
    for service in services:
        if not request.POST.get(f"service_{service.pk}"):
            continue
        limits = {}
        for key in ("mttd", "mttr"):
            raw = request.POST.get(f"{key}_{service.pk}", "").strip()
            if not raw:
                limits[key] = None
                continue
            try:
                minutes = float(raw)
            except ValueError:
                minutes = -1
            # NaN fails both comparisons; "inf" and "1e300" would not fit the column (a 500).
            if not 0 <= minutes <= MAX_TARGET_MINUTES:
                errors[f"{key}_{service.pk}"] = f"max {key.upper()} for {service.name}: minutes"
                continue
            limits[key] = round(minutes * 60)
        specs.append(
            drills.TargetSpec(
                service=service,
                max_mttd_seconds=limits.get("mttd"),
                max_mttr_seconds=limits.get("mttr"),
            )
        )
    return specs, errors


@login_required
@require_http_methods(["GET", "POST"])
def drill_new(request):
    teams = list(managed_teams(request.user))
    if not teams:
        raise PermissionDenied("only team managers create drills")
    wanted = request.POST.get("team") or request.GET.get("team") or teams[0].slug
    team = next((t for t in teams if t.slug == wanted), None)
    if team is None:
        raise Http404("no such team")
    services = list(Service.objects.filter(team=team).order_by("name"))
    form = DrillForm(request.POST or None)
    errors: dict[str, str] = {}
    if request.method == "POST" and form.is_valid():
        specs, errors = _target_specs(request, services)
        if not errors:
            try:
                drill = drills.drill_create(
                    team=team,
                    name=form.cleaned_data["name"],
                    scenario=form.cleaned_data["scenario"],
                    grace_seconds=form.cleaned_data["grace_minutes"] * 60,
                    targets=specs,
                    user=request.user,
                )
            except drills.DrillError as exc:
                errors[exc.field or "form"] = exc.message
            else:
                messages.success(request, f"Drill {drill.name} created.")
                return redirect("drill-review", drill_id=drill.pk)
    return render(
        request,
        "metrics/drill_new.html",
        {
            "form": form,
            "team": team,
            "teams": teams,
            "services": services,
            "errors": errors,
            "posted": request.POST,
        },
        # A refused form answers 400, as every other form of the app does.
        status=400 if request.method == "POST" else 200,
    )


def _service_card(item: selectors_drills.ServiceReview) -> dict:
    o = item.outcome
    return {
        "item": item,
        "outcome": o,
        "mttd": fmt_duration(o.mttd_seconds),
        "mtta": fmt_duration(o.mtta_seconds),
        "mttr": fmt_duration(o.mttr_seconds),
        "max_mttd": fmt_duration(o.max_mttd_seconds),
        "max_mttr": fmt_duration(o.max_mttr_seconds),
        "chart": charts.drill_trend(
            item.history,
            service_name=item.service.name,
            max_mttd_seconds=o.max_mttd_seconds,
            max_mttr_seconds=o.max_mttr_seconds,
        )
        if item.history
        else None,
    }


@login_required
@require_GET
def drill_review(request, drill_id: int):
    drill = _visible(request, drill_id)
    review = selectors_drills.drill_review(drill)
    can_respond = permissions.can_respond(request.user, drill.team_id)
    return render(
        request,
        "metrics/drill_review.html",
        {
            "drill": drill,
            "review": review,
            "cards": [_service_card(item) for item in review.services],
            "result": {True: "pass", False: "fail"}.get(review.passed, "pending"),
            "can_respond": can_respond,
            "candidates": selectors_drills.attach_candidates(drill) if can_respond else [],
            "definitions": definitions.ALL,
        },
    )


@login_required
@require_POST
def drill_action(request, drill_id: int, action: str):
    """The review page's buttons: inject, restore, finish, attach, detach."""
    drill = _visible(request, drill_id)
    if action not in {"inject", "restore", "finish", "attach", "detach"}:
        raise Http404("no such action")
    if not permissions.can_respond(request.user, drill.team_id):
        raise PermissionDenied("only responders and managers of the team can drive drills")
    now = timezone.now()
    try:
        if action in {"inject", "restore"}:
            target = DrillService.objects.filter(
                drill=drill, service_id=_int(request.POST.get("service"))
            ).first()
            if target is None:
                raise drills.DrillError("service: not part of this drill", field="service")
            act = drills.drill_inject if action == "inject" else drills.drill_restore
            act(drill_id=drill.pk, service_id=target.service_id, at=now)
        elif action == "finish":
            drills.drill_finish(drill_id=drill.pk, at=now)
        else:
            incident_id = _int(request.POST.get("incident"))
            if incident_id is None:
                raise drills.DrillError("incident: give an incident number", field="incident")
            act = drills.drill_attach if action == "attach" else drills.drill_detach
            act(drill_id=drill.pk, incident_id=incident_id, user=request.user)
    except drills.DrillError as exc:
        messages.error(request, exc.message)
    return redirect("drill-review", drill_id=drill.pk)


def _int(value) -> int | None:
    try:
        return int(str(value).strip().lstrip("#"))
    except (TypeError, ValueError):
        return None
