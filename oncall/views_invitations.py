"""Invitation pages: the managers' list (invite, resend, revoke) and the invited person's
set-password page at /invite/<token>/. Rules in oncall.invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import FieldErrors
from core.forms import AcceptInvitationForm
from oncall import invitations
from oncall.forms import InvitationForm
from oncall.models import Invitation
from oncall.selectors import managed_teams

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _report(request, sent: invitations.Sent, done: str) -> None:
    if sent.error:
        messages.error(request, f"{done}, but {sent.error}.")
    else:
        messages.success(request, f"{done}; the link is on its way to {sent.invitation.email}.")


@login_required
@require_http_methods(["GET", "POST"])
def invitation_list(request):
    if not invitations.manages_any_team(request.user):
        raise PermissionDenied("only team managers invite people")
    teams = list(managed_teams(request.user).order_by("name"))
    form = InvitationForm(request.POST or None, teams=teams, allow_no_team=request.user.is_staff)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            team = next((t for t in teams if t.slug == data["team"]), None)
            try:
                sent = invitations.invitation_create(
                    actor=request.user, email=data["email"], team=team, role=data["role"]
                )
            except FieldErrors as exc:
                exc.add_to_form(form)
            else:
                _report(request, sent, f"{sent.invitation.email} invited")
                return redirect("invitation-list")
    rows = invitations.invitations_for(request.user)[:200]
    now = timezone.now()
    return render(
        request,
        "oncall/invitations.html",
        {"form": form, "rows": [(row, row.state_at(now)) for row in rows]},
        status=status,
    )


def _changeable(request, invitation_id: int) -> Invitation:
    try:
        return invitations.invitation_for_change(user=request.user, invitation_id=invitation_id)
    except Invitation.DoesNotExist:
        raise Http404("no such invitation") from None


@login_required
@require_POST
def invitation_resend(request, invitation_id: int):
    invitation = _changeable(request, invitation_id)
    try:
        sent = invitations.invitation_resend(actor=request.user, invitation=invitation)
    except FieldErrors as exc:
        messages.error(request, " ".join(text for _field, text in exc.flat()))
    else:
        _report(request, sent, f"Invitation of {invitation.email} sent again")
    return redirect("invitation-list")


@login_required
@require_POST
def invitation_revoke(request, invitation_id: int):
    invitation = _changeable(request, invitation_id)
    try:
        invitations.invitation_revoke(actor=request.user, invitation=invitation)
    except FieldErrors as exc:
        messages.error(request, " ".join(text for _field, text in exc.flat()))
    else:
        messages.info(request, f"Invitation of {invitation.email} revoked; its link is dead.")
    return redirect("invitation-list")


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    """Public: the token is the credential. A GET only reads (mail scanners fetch links)."""
    verdict = invitations.invitation_check(token=token)
    if verdict.state != invitations.READY:
        return _unusable(request, verdict)
    invitation = verdict.invitation
    suggested = invitation.email.split("@", 1)[0]
    form = AcceptInvitationForm(request.POST or None, initial={"username": suggested})
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.invitation_accept(token=token, **form.cleaned_data)
        except invitations.InvitationUnusable as exc:
            return _unusable(request, exc.verdict)
        except FieldErrors as exc:
            exc.add_to_form(form)
        else:
            login(request, user, backend=MODEL_BACKEND)
            team = f" You are in {invitation.team.name}." if invitation.team_id else ""
            messages.success(request, f"Welcome, {user.get_username()}.{team}")
            return redirect("dashboard")
    return render(
        request,
        "oncall/invitation_accept.html",
        {"form": form, "invitation": invitation},
        status=400 if request.method == "POST" else 200,
    )


def _unusable(request, verdict: invitations.Verdict):
    return render(
        request,
        "oncall/invitation_accept.html",
        {"unusable": verdict},
        status=verdict.status,
    )
