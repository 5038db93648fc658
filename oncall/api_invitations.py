"""/api/v1/invitations/: the same invitations as the page (oncall.invitations), for scripts.
GET lists what the user may see (paginated), POST invites, DELETE on one revokes it, POST
on its resend/ mints a new link. The link itself is only ever in the email."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import FieldErrors
from core.fields import ObjectIdField
from core.pagination import PaginatedList
from oncall import invitations
from oncall.models import Invitation, Role
from oncall.selectors import teams_for


class InvitationSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    invited_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    accepted_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    state = serializers.SerializerMethodField(help_text="pending, accepted, revoked or expired")

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "team",
            "role",
            "state",
            "invited_by",
            "created_at",
            "sent_at",
            "expires_at",
            "accepted_at",
            "accepted_by",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_state(self, invitation: Invitation) -> str:
        return invitation.state_at(timezone.now())


class InvitationSentSerializer(InvitationSerializer):
    email_error = serializers.CharField(
        help_text="Why the email could not be sent (empty when it was); resend later."
    )

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "email_error"]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    team = serializers.SlugField(
        required=False, allow_null=True, help_text="the team's slug; staff may leave it out"
    )
    role = serializers.ChoiceField(choices=Role.choices, default=Role.RESPONDER)


def _sent(sent: invitations.Sent, code: int) -> Response:
    sent.invitation.email_error = sent.error
    return Response(InvitationSentSerializer(sent.invitation).data, status=code)


def _changeable(request, invitation_id: int) -> Invitation:
    ObjectIdField().run_validation(invitation_id)
    try:
        return invitations.invitation_for_change(user=request.user, invitation_id=invitation_id)
    except Invitation.DoesNotExist:
        raise Http404("no such invitation") from None


class InvitationList(PaginatedList, APIView):
    @extend_schema(responses=InvitationSerializer(many=True))
    def get(self, request):
        if not invitations.manages_any_team(request.user):
            raise PermissionDenied("only team managers invite people")
        found = invitations.invitations_for(request.user).order_by("-created_at", "-pk")
        page = self.paginate_queryset(found)
        return self.get_paginated_response(InvitationSerializer(page, many=True).data)

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSentSerializer})
    def post(self, request):
        if not invitations.manages_any_team(request.user):
            raise PermissionDenied("only team managers invite people")
        given = InvitationCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        team = None
        if data.get("team"):
            team = teams_for(request.user).filter(slug=data["team"]).first()
            if team is None:
                raise FieldErrors({"team": f"no team {data['team']!r} that you can see"})
        sent = invitations.invitation_create(
            actor=request.user, email=data["email"], team=team, role=data["role"]
        )
        return _sent(sent, status.HTTP_201_CREATED)


class InvitationDetail(APIView):
    @extend_schema(responses=InvitationSerializer)
    def get(self, request, invitation_id: int):
        return Response(InvitationSerializer(_changeable(request, invitation_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, invitation_id: int):
        """Revoke: the link stops working (the invitation stays listed, as revoked)."""
        invitations.invitation_revoke(
            actor=request.user, invitation=_changeable(request, invitation_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationResend(APIView):
    @extend_schema(request=None, responses=InvitationSentSerializer)
    def post(self, request, invitation_id: int):
        sent = invitations.invitation_resend(
            actor=request.user, invitation=_changeable(request, invitation_id)
        )
        return _sent(sent, status.HTTP_200_OK)
