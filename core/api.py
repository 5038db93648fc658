from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import services
from core.models import ApiToken
from core.pagination import PaginatedList


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text="The token's value: shown once, never again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class MyTeamSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    role = serializers.CharField(help_text="viewer, responder or manager")


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    is_staff = serializers.BooleanField()
    teams = MyTeamSerializer(many=True)


class ApiTokenList(PaginatedList, APIView):
    @extend_schema(responses=ApiTokenSerializer(many=True))
    def get(self, request):
        tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-pk")
        page = self.paginate_queryset(tokens)
        return self.get_paginated_response(ApiTokenSerializer(page, many=True).data)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def post(self, request):
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, plain = services.api_token_create(
            user=request.user, name=serializer.validated_data["name"]
        )
        token.token = plain
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class ApiTokenDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, token_id: int):
        token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
        services.api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class Me(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = request.user
        teams = [
            {"slug": m.team.slug, "name": m.team.name, "role": m.role}
            for m in user.memberships.select_related("team")
        ]
        data = {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "is_staff": user.is_staff,
            "teams": teams,
        }
        return Response(MeSerializer(data).data)
