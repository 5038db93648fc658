"""HTML pages for teams: the user's teams, starting a team (its creator manages it), a
team's members with their roles, and its settings (name, time zone), which its managers (and
staff) change. The rules are in
oncall.teams, shared with the API; members see the page read-only, outsiders get 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import FieldErrors
from core.fields import form_text
from oncall import permissions, selectors, teams
from oncall.forms_teams import (
    ROLE_CHOICES,
    ROLE_HELP,
    MemberAddForm,
    TeamForm,
    TeamSettingsForm,
)
from oncall.models import Membership, Role, Team


def _team(request, slug: str) -> Team:
    team = selectors.teams_for(request.user).filter(slug=slug).distinct().first()
    if team is None:
        raise Http404("no such team")
    return team


def _managed(request, slug: str) -> Team:
    team = _team(request, slug)
    if not permissions.can_manage(request.user, team):
        raise PermissionDenied("only the team's managers change its members and settings")
    return team


@login_required
@require_GET
def team_list(request):
    found = (
        selectors.teams_for(request.user)
        .distinct()
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("name", "pk")
    )
    roles = dict(Membership.objects.filter(user=request.user).values_list("team_id", "role"))
    rows = [
        {"team": team, "role": Role(roles[team.pk]).label if team.pk in roles else None}
        for team in found
    ]
    return render(request, "oncall/team_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def team_new(request):
    if request.method == "POST":
        form = TeamForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                team = teams.team_create(
                    actor=request.user,
                    name=data["name"],
                    slug=data["slug"].strip(),
                    time_zone=data["time_zone"],
                )
            except FieldErrors as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, f"Team {team.name} created: you are its manager.")
                return redirect("team-detail", team=team.slug)
        return render(request, "oncall/team_new.html", {"form": form}, status=400)
    form = TeamForm(initial={"time_zone": selectors.profile_time_zone(request.user)})
    return render(request, "oncall/team_new.html", {"form": form})


def _detail_page(request, team: Team, *, add_form=None, row_errors=None, status=200):
    manager = permissions.can_manage(request.user, team)
    members = list(
        Membership.objects.filter(team=team).select_related("user").order_by("user__username")
    )
    for member in members:
        member.errors = (row_errors or {}).get(member.pk, [])
    context = {
        "team": team,
        "members": members,
        "can_manage": manager,
        "add_form": add_form or (MemberAddForm() if manager else None),
        "roles": ROLE_CHOICES,
        "role_help": ROLE_HELP,
    }
    return render(request, "oncall/team_detail.html", context, status=status)


@login_required
@require_GET
def team_detail(request, team: str):
    return _detail_page(request, _team(request, team))


@login_required
@require_http_methods(["GET", "POST"])
def team_settings(request, team: str):
    """Rename the team or change its time zone; the slug stays (URLs, the API and
    provisioning documents name the team by it)."""
    found = _managed(request, team)
    if request.method == "POST":
        form = TeamSettingsForm(request.POST)
        if form.is_valid():
            try:
                teams.team_update(
                    actor=request.user,
                    team=found,
                    name=form.cleaned_data["name"],
                    time_zone=form.cleaned_data["time_zone"],
                )
            except FieldErrors as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, f"Team {found.name} saved.")
                return redirect("team-detail", team=found.slug)
        found.refresh_from_db(fields=["name", "time_zone"])
        context = {"team": found, "form": form}
        return render(request, "oncall/team_settings.html", context, status=400)
    form = TeamSettingsForm(initial={"name": found.name, "time_zone": found.time_zone})
    return render(request, "oncall/team_settings.html", {"team": found, "form": form})


def _member(team: Team, username: str) -> Membership:
    membership = teams.team_member(team, username)
    if membership is None:
        raise Http404("no such member")
    return membership


@login_required
@require_POST
def member_add(request, team: str):
    found = _managed(request, team)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            user = teams.find_user(form.cleaned_data["user"])
            teams.membership_add(
                actor=request.user, team=found, user=user, role=form.cleaned_data["role"]
            )
        except FieldErrors as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, f"{user.get_username()} added to {found.name}.")
            return redirect("team-detail", team=found.slug)
    return _detail_page(request, found, add_form=form, status=400)


@login_required
@require_POST
def member_role(request, team: str):
    found = _managed(request, team)
    membership = _member(found, form_text(request.POST, "username"))
    try:
        teams.membership_set_role(
            actor=request.user, membership=membership, role=form_text(request.POST, "role")
        )
    except FieldErrors as exc:
        errors = {membership.pk: [text for _, text in exc.flat()]}
        return _detail_page(request, found, row_errors=errors, status=400)
    messages.success(request, f"{membership.user.get_username()} is now a {membership.role}.")
    return redirect("team-detail", team=found.slug)


@login_required
@require_POST
def member_remove(request, team: str):
    found = _managed(request, team)
    membership = _member(found, form_text(request.POST, "username"))
    try:
        teams.membership_remove(actor=request.user, membership=membership)
    except FieldErrors as exc:
        errors = {membership.pk: [text for _, text in exc.flat()]}
        return _detail_page(request, found, row_errors=errors, status=400)
    name = membership.user.get_username()
    messages.success(request, f"{name} removed from {found.name}.")
    if not selectors.teams_for(request.user).filter(pk=found.pk).exists():
        return redirect("team-list")  # the manager left the team
    return redirect("team-detail", team=found.slug)
