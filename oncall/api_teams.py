"""Teams the user belongs to (staff: all), with members and roles. Any user may create a
team (and manages it); a team's managers add existing users, change roles and remove
members. The rules are oncall.teams', the same the team pages call."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import PaginatedList
from oncall import teams
from oncall.models import Membership, Role, Team
from oncall.permissions import can_manage
from oncall.selectors import teams_for


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["username", "role"]


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "slug", "name", "time_zone"]


class TeamDetailSerializer(TeamSerializer):
    members = MemberSerializer(source="memberships", many=True, read_only=True)

    class Meta(TeamSerializer.Meta):
        fields = [*TeamSerializer.Meta.fields, "members"]


class TeamCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.CharField(max_length=50, help_text="lowercase letters, digits, hyphens")
    time_zone = serializers.CharField(max_length=64, default="UTC", help_text="an IANA zone")


class TeamUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        help_text="an IANA zone: the team's weeks, weekly statistics and report times",
    )


class MemberAddSerializer(serializers.Serializer):
    user = serializers.CharField(
        max_length=254, help_text="the username or email address of an existing user"
    )
    role = serializers.ChoiceField(choices=Role.choices, default=Role.RESPONDER.value)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


def _team(request, slug: str) -> Team:
    found = teams_for(request.user).filter(slug=slug).distinct().first()
    if found is None:
        raise Http404("no such team")
    return found


def _managed(request, slug: str) -> Team:
    found = _team(request, slug)
    if not can_manage(request.user, found):
        raise PermissionDenied("only the team's managers change its members and settings")
    return found


def _detail(team: Team) -> dict:
    team = Team.objects.prefetch_related("memberships__user").get(pk=team.pk)
    return TeamDetailSerializer(team).data


class TeamList(PaginatedList, APIView):
    @extend_schema(responses=TeamSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(teams_for(request.user).distinct().order_by("name", "pk"))
        return self.get_paginated_response(TeamSerializer(page, many=True).data)

    @extend_schema(request=TeamCreateSerializer, responses={201: TeamDetailSerializer})
    def post(self, request):
        serializer = TeamCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = teams.team_create(actor=request.user, **serializer.validated_data)
        return Response(_detail(team), status=status.HTTP_201_CREATED)


class TeamDetail(APIView):
    @extend_schema(responses=TeamDetailSerializer)
    def get(self, request, team: str):
        return Response(_detail(_team(request, team)))

    @extend_schema(request=TeamUpdateSerializer, responses=TeamDetailSerializer)
    def patch(self, request, team: str):
        """A new name or time zone; the slug names the team in URLs and stays."""
        found = _managed(request, team)
        serializer = TeamUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        teams.team_update(
            actor=request.user,
            team=found,
            name=data.get("name", found.name),
            time_zone=data.get("time_zone", found.time_zone),
        )
        return Response(_detail(found))


def _member(team: Team, username: str) -> Membership:
    membership = teams.team_member(team, username)
    if membership is None:
        raise Http404("no such member")
    return membership


class MemberList(PaginatedList, APIView):
    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request, team: str):
        members = Membership.objects.filter(team=_team(request, team)).select_related("user")
        page = self.paginate_queryset(members.order_by("user__username", "pk"))
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(request=MemberAddSerializer, responses={201: MemberSerializer})
    def post(self, request, team: str):
        found = _managed(request, team)
        serializer = MemberAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = teams.find_user(serializer.validated_data["user"])
        membership = teams.membership_add(
            actor=request.user, team=found, user=user, role=serializer.validated_data["role"]
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetail(APIView):
    @extend_schema(responses=MemberSerializer)
    def get(self, request, team: str, username: str):
        return Response(MemberSerializer(_member(_team(request, team), username)).data)

    @extend_schema(request=MemberRoleSerializer, responses=MemberSerializer)
    def patch(self, request, team: str, username: str):
        membership = _member(_managed(request, team), username)
        serializer = MemberRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = teams.membership_set_role(
            actor=request.user, membership=membership, role=serializer.validated_data["role"]
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request, team: str, username: str):
        membership = _member(_managed(request, team), username)
        teams.membership_remove(actor=request.user, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)
