"""Teams the user belongs to (staff: all), with members and roles. Read-only: teams and
memberships are administered in the admin."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import PaginatedList
from oncall.models import Membership, Team
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


class TeamList(PaginatedList, APIView):
    @extend_schema(responses=TeamSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(teams_for(request.user).distinct().order_by("name", "pk"))
        return self.get_paginated_response(TeamSerializer(page, many=True).data)


class TeamDetail(APIView):
    @extend_schema(responses=TeamDetailSerializer)
    def get(self, request, team: str):
        found = (
            teams_for(request.user)
            .filter(slug=team)
            .prefetch_related("memberships__user")
            .distinct()
            .first()
        )
        if found is None:
            raise Http404("no such team")
        return Response(TeamDetailSerializer(found).data)
