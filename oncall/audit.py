"""The audit log of configuration changes: a team's managers see its entries; everyone
sees their own token changes; staff see everything."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from core.models import AuditEntry
from core.pagination import PaginatedList
from oncall.selectors import managed_teams


def audit_for(user) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("actor")
    if user.is_staff:
        return entries
    managed = managed_teams(user).values("pk")
    return entries.filter(Q(team_id__in=managed) | Q(team_id__isnull=True, actor=user))


@login_required
@require_GET
def audit_log(request):
    page = Paginator(audit_for(request.user), 100).get_page(request.GET.get("page"))
    return render(request, "incidents/audit.html", {"page": page})


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    changes = serializers.DictField(
        read_only=True,
        help_text="by field: [old, new] for an edit, else the values created or deleted",
    )

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor",
            "team_id",
            "action",
            "object_type",
            "object_id",
            "summary",
            "changes",
        ]
        read_only_fields = fields


class AuditList(PaginatedList, APIView):
    @extend_schema(responses=AuditEntrySerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(audit_for(request.user))
        return self.get_paginated_response(AuditEntrySerializer(page, many=True).data)
