"""HTML pages for escalation policies: the list (members read), a policy's steps in order and
the form to create or edit one (managers). The rules are in incidents.escalation.policies,
shared with the API. Choosing the services a policy pages for changes those services: that
page's action is in incidents.catalog.views."""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import FieldErrors
from core.fields import form_text
from incidents.escalation import policies, policy_input
from incidents.escalation import selectors as escalation_selectors
from incidents.escalation.forms import (
    PolicyForm,
    StepFormSet,
    apply_errors,
    step_initial,
    steps_from,
    target_choices,
)
from incidents.models import EscalationPolicy, Service
from oncall import selectors
from oncall.permissions import can_manage
from oncall.selectors import oncall_at_many, teams_for


def _policy(request, policy_id: int) -> EscalationPolicy:
    policy = escalation_selectors.policies_for(request.user).filter(pk=policy_id).first()
    if policy is None:
        raise Http404("no such escalation policy")
    return policy


def managed_policy(request, policy_id: int) -> EscalationPolicy:
    policy = _policy(request, policy_id)
    if not can_manage(request.user, policy.team_id):
        raise PermissionDenied("only the team's managers change its escalation policies")
    return policy


@login_required
@require_GET
def policy_list(request):
    found = list(escalation_selectors.policies_for(request.user))
    escalation_selectors.label_targets(found)
    managed = list(selectors.managed_teams(request.user))
    managed_ids = {team.pk for team in managed}
    context = {
        "policies": found,
        "can_create": bool(managed),
        "managed_ids": managed_ids,
        "unpaged": escalation_selectors.services_without_policy(request.user),
    }
    return render(request, "incidents/policy_list.html", context)


@login_required
@require_GET
def policy_detail(request, policy_id: int):
    policy = _policy(request, policy_id)
    names = escalation_selectors.label_targets([policy])
    manager = can_manage(request.user, policy.team_id)
    # Who a schedule target would page right now (four queries for all of them).
    oncall = oncall_at_many(list(names), timezone.now()) if names else {}
    steps = [
        {
            "step": step,
            "wait": policy_input.delay_label(step.delay_seconds),
            "targets": [(t, oncall.get(t.schedule_id)) for t in step.targets.all()],
        }
        for step in policy.steps.all()
    ]
    assignable = []
    if manager:
        assignable = list(
            Service.objects.filter(team_id=policy.team_id)
            .exclude(escalation_policy=policy)
            .order_by("name")
        )
    context = {
        "policy": policy,
        "steps": steps,
        "can_manage": manager,
        "assignable": assignable,
    }
    return render(request, "incidents/policy_detail.html", context)


def _form_page(request, *, team, policy: EscalationPolicy | None, other_teams=()):
    """Create (policy None) or edit: the same form, the same service rules."""
    users = escalation_selectors.pageable_members(team)
    schedules = escalation_selectors.team_schedules(team)
    if policy is not None:
        # A target no longer pageable (a viewer now, or gone) still shows, so saving
        # reports it instead of dropping it silently.
        targets = [t for step in policy.steps.all() for t in step.targets.all()]
        users += [t.user for t in targets if t.user_id and t.user not in users]
        known = {s.pk for s in schedules}
        schedules += [
            SimpleNamespace(pk=t.schedule_id, name=f"schedule {t.schedule_id} (gone)")
            for t in targets
            if t.schedule_id and t.schedule_id not in known
        ]
    choices = {"target_choices": target_choices(users, schedules)}
    general: list[str] = []
    status = 200
    if request.method == "POST":
        form = PolicyForm(request.POST, users=users)
        formset = StepFormSet(request.POST, prefix="steps", form_kwargs=choices)
        if form.is_valid() and formset.is_valid():
            steps, rows = steps_from(formset)
            values = {**form.cleaned_data, "steps": steps}
            try:
                if policy is None:
                    policy = policies.policy_create(actor=request.user, team=team, **values)
                else:
                    policies.policy_update(actor=request.user, policy=policy, **values)
            except FieldErrors as exc:
                general = apply_errors(exc.errors, form=form, formset=formset, rows=rows)
            else:
                messages.success(request, f"Escalation policy {values['name'].strip()} saved.")
                return redirect("escalation-policy-detail", policy_id=policy.pk)
        general += list(formset.non_form_errors())
        status = 400
    else:
        initial = {"name": "", "repeat": 0, "fallback_user": ""}
        rows = []
        if policy is not None:
            fallback = policy.fallback_user.get_username() if policy.fallback_user else ""
            initial = {"name": policy.name, "repeat": policy.repeat, "fallback_user": fallback}
            rows = step_initial(policy)
        form = PolicyForm(initial=initial, users=users)
        formset = StepFormSet(initial=rows, prefix="steps", form_kwargs=choices)
    context = {
        "form": form,
        "formset": formset,
        "general_errors": general,
        "team": team,
        "policy": policy,
        "other_teams": other_teams,
        "has_targets": bool(users or schedules),
    }
    return render(request, "incidents/policy_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def policy_new(request):
    if request.method == "POST":
        team = teams_for(request.user).filter(slug=form_text(request.POST, "team")).first()
        if team is None:
            raise Http404("no such team")
        if not can_manage(request.user, team):
            raise PermissionDenied("only the team's managers create its escalation policies")
        return _form_page(request, team=team, policy=None)
    managed = list(selectors.managed_teams(request.user))
    if not managed:
        raise PermissionDenied("only team managers create escalation policies")
    wanted = request.GET.get("team")
    team = next((t for t in managed if t.slug == wanted), managed[0])
    others = [t for t in managed if t.pk != team.pk]
    return _form_page(request, team=team, policy=None, other_teams=others)


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, policy_id: int):
    policy = managed_policy(request, policy_id)
    return _form_page(request, team=policy.team, policy=policy)


@login_required
@require_POST
def policy_delete(request, policy_id: int):
    policy = managed_policy(request, policy_id)
    try:
        policies.policy_delete(actor=request.user, policy=policy)
    except policies.PolicyInUse as exc:
        messages.error(request, str(exc))
        return redirect("escalation-policy-detail", policy_id=policy.pk)
    messages.success(request, f"Escalation policy {policy.name} deleted.")
    return redirect("escalation-policy-list")
