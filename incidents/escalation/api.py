"""API for escalation policies: /api/v1/escalation-policies/. Members read their teams'
policies; managers create, replace, change and delete them; outsiders get 404. The rules
are in incidents.escalation.policies; a refused field comes back as 400 naming it the way the
body wrote it (`steps[1].targets[0].user`), a policy still in use as 409 naming its services.
Give a service a policy with PATCH /api/v1/services/{slug}/ {"escalation_policy": id}."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.fields import query_text
from core.openapi import CONFLICT
from core.pagination import PaginatedList
from core.text import NUL_MESSAGE, has_nul
from incidents.escalation import policies, policy_input
from incidents.escalation.selectors import policies_for, schedule_names
from incidents.models import EscalationPolicy
from oncall.permissions import can_manage
from oncall.selectors import teams_for

# --- the schema (parsing is policy_input's: one rule for the API and the pages) ---------------


class TargetIn(serializers.Serializer):
    user = serializers.CharField(required=False, help_text="a responder's or manager's username")
    schedule = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=policy_input.MAX_ID,
        help_text="id of one of the team's schedules",
    )


class StepIn(serializers.Serializer):
    delay_seconds = serializers.IntegerField(
        min_value=0,
        max_value=policy_input.MAX_DELAY_SECONDS,
        default=0,
        help_text="wait after the previous step (the first step: after the trigger)",
    )
    targets = TargetIn(many=True, min_length=1, max_length=policy_input.MAX_TARGETS)


class PolicyIn(serializers.Serializer):
    team = serializers.SlugField(help_text="the team's slug; a policy never changes team")
    name = serializers.CharField(max_length=policy_input.MAX_NAME_LENGTH)
    repeat = serializers.IntegerField(
        min_value=0,
        max_value=policy_input.MAX_REPEAT,
        default=0,
        help_text="how many more times the chain runs after its last step",
    )
    fallback_user = serializers.CharField(
        allow_null=True, required=False, help_text="paged when a step reaches nobody"
    )
    steps = StepIn(many=True, min_length=1, max_length=policy_input.MAX_STEPS)


class PolicyReplace(PolicyIn):
    team = serializers.SlugField(required=False, help_text="if given, the policy's own team")


class PolicyPatch(PolicyReplace):
    name = serializers.CharField(max_length=policy_input.MAX_NAME_LENGTH, required=False)
    repeat = serializers.IntegerField(
        min_value=0, max_value=policy_input.MAX_REPEAT, required=False
    )
    steps = StepIn(many=True, min_length=1, max_length=policy_input.MAX_STEPS, required=False)


class TargetOut(serializers.Serializer):
    user = serializers.CharField(required=False)
    schedule = serializers.IntegerField(required=False)
    schedule_name = serializers.CharField(required=False, allow_null=True)


class StepOut(serializers.Serializer):
    delay_seconds = serializers.IntegerField()
    targets = TargetOut(many=True)


class PolicyOut(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.CharField()
    name = serializers.CharField()
    repeat = serializers.IntegerField()
    fallback_user = serializers.CharField(allow_null=True)
    steps = StepOut(many=True)
    services = serializers.ListField(child=serializers.CharField(), help_text="slugs")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def policy_json(policy: EscalationPolicy, names: dict[int, str]) -> dict:
    """`policy` must come from selectors_policies.policies_for (prefetched)."""

    def target(t) -> dict:
        if t.user_id is not None:
            return {"user": t.user.get_username()}
        return {"schedule": t.schedule_id, "schedule_name": names.get(t.schedule_id)}

    return {
        "id": policy.pk,
        "team": policy.team.slug,
        "name": policy.name,
        "repeat": policy.repeat,
        "fallback_user": policy.fallback_user.get_username() if policy.fallback_user else None,
        "steps": [
            {
                "delay_seconds": step.delay_seconds,
                "targets": [target(t) for t in step.targets.all()],
            }
            for step in policy.steps.all()
        ],
        "services": [service.slug for service in policy.services.all()],
        "created_at": serializers.DateTimeField().to_representation(policy.created_at),
        "updated_at": serializers.DateTimeField().to_representation(policy.updated_at),
    }


# --- views ------------------------------------------------------------------------------------


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
    return request.data


def _policy(request, policy_id: int) -> EscalationPolicy:
    policy = policies_for(request.user).filter(pk=policy_id).first()
    if policy is None:
        raise NotFound("no such escalation policy")
    return policy


def _require_manager(user, policy: EscalationPolicy) -> None:
    if not can_manage(user, policy.team_id):
        raise PermissionDenied("only the team's managers can change its escalation policies")


def _one(request, policy_id: int) -> dict:
    policy = _policy(request, policy_id)
    return policy_json(policy, schedule_names([policy]))


_TEAM = OpenApiParameter("team", OpenApiTypes.STR, description="only this team's (slug)")


class EscalationPolicyList(PaginatedList, APIView):
    @extend_schema(
        parameters=[_TEAM],
        responses=PolicyOut(many=True),
        operation_id="v1_escalation_policies_list",
    )
    def get(self, request):
        found = policies_for(request.user)
        team = query_text(request, "team")
        if team:
            found = found.filter(team__slug=team)
        page = self.paginate_queryset(found)
        names = schedule_names(page)
        return self.get_paginated_response([policy_json(p, names) for p in page])

    @extend_schema(request=PolicyIn, responses={201: PolicyOut})
    def post(self, request):
        body = _body(request)
        slug = body.get("team")
        if not isinstance(slug, str) or not slug:
            raise ValidationError({"team": ["Required: the slug of one of your teams."]})
        if has_nul(slug):
            raise ValidationError({"team": [NUL_MESSAGE]})
        team = teams_for(request.user).filter(slug=slug).first()
        if team is None:
            raise ValidationError({"team": [f"No team {slug!r} among yours."]})
        if not can_manage(request.user, team):
            raise PermissionDenied("only the team's managers can create escalation policies")
        policy = policies.policy_create(
            actor=request.user,
            team=team,
            name=body.get("name"),
            repeat=body.get("repeat", 0),
            fallback_user=body.get("fallback_user"),
            steps=body.get("steps"),
        )
        return Response(_one(request, policy.pk), status=status.HTTP_201_CREATED)


class EscalationPolicyDetail(APIView):
    @extend_schema(responses=PolicyOut)
    def get(self, request, policy_id: int):
        return Response(_one(request, policy_id))

    def _change(self, request, policy_id: int, *, replace: bool) -> Response:
        policy = _policy(request, policy_id)
        _require_manager(request.user, policy)
        body = _body(request)
        if "team" in body and body["team"] != policy.team.slug:
            raise ValidationError(
                {"team": ["A policy cannot move to another team; create one there instead."]}
            )
        if replace:
            missing = [field for field in ("name", "steps") if field not in body]
            if missing:
                raise ValidationError({field: ["This field is required."] for field in missing})
            fields = {
                "name": body["name"],
                "repeat": body.get("repeat", 0),
                "fallback_user": body.get("fallback_user"),
                "steps": body["steps"],
            }
        else:
            fields = {field: body[field] for field in policy_input.FIELDS if field in body}
        policies.policy_update(actor=request.user, policy=policy, **fields)
        return Response(_one(request, policy_id))

    @extend_schema(request=PolicyReplace, responses=PolicyOut)
    def put(self, request, policy_id: int):
        return self._change(request, policy_id, replace=True)

    @extend_schema(request=PolicyPatch, responses=PolicyOut)
    def patch(self, request, policy_id: int):
        return self._change(request, policy_id, replace=False)

    @extend_schema(responses={204: None, **CONFLICT})
    def delete(self, request, policy_id: int):
        policy = _policy(request, policy_id)
        _require_manager(request.user, policy)
        try:
            policies.policy_delete(actor=request.user, policy=policy)
        except policies.PolicyInUse as exc:
            return Response(
                {"detail": str(exc), "services": [s.slug for s in exc.services]},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
