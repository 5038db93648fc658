"""REST API of the metrics app (DRF, session auth); routes in metrics/urls.py.

Durations are seconds (numbers), instants UTC ISO 8601. Outsiders get 404, bad input 400
naming the field, an action that does not fit the current state 409.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import Service
from metrics import definitions
from metrics import selectors as mttx_selectors
from metrics import weeks as mttx_weeks
from metrics.serializers import ServiceMttxOut
from oncall.selectors import teams_for

# Drill and weekly report endpoints live in metrics/api_drills.py (split by area).


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


# =============================================================================================
# MTTx figures (metrics engine: metrics.selectors)
# =============================================================================================

# How many weeks one request may ask for: two years of weekly rows per service.
MTTX_MAX_WEEKS = 106


class ServiceMttxQuery(serializers.Serializer):
    team = serializers.SlugField()
    start_week = serializers.CharField(required=False)
    end_week = serializers.CharField(required=False)
    drills = serializers.BooleanField(required=False, default=False)

    def _week(self, value: str) -> str:
        try:
            year, _week = mttx_weeks.parse_iso_week(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        if not 1970 <= year <= 2999:  # beyond, week bounds overflow Python's datetime
            raise serializers.ValidationError("give a week between 1970 and 2999")
        return value

    def validate_start_week(self, value: str) -> str:
        return self._week(value)

    def validate_end_week(self, value: str) -> str:
        return self._week(value)


def _mttx_week_range(query: dict, *, time_zone: str) -> tuple[str, str]:
    """The requested weeks, by default the eight weeks ending with the current one."""
    end = query.get("end_week") or mttx_weeks.iso_week_of(timezone.now(), time_zone)
    start = query.get("start_week") or mttx_weeks.shift_week(end, -7)
    if mttx_weeks.monday_of(start) > mttx_weeks.monday_of(end):
        raise serializers.ValidationError({"start_week": [f"{start} is after {end}"]})
    if len(mttx_weeks.weeks_between(start, end)) > MTTX_MAX_WEEKS:
        raise serializers.ValidationError(
            {"start_week": [f"at most {MTTX_MAX_WEEKS} weeks per request"]}
        )
    return start, end


class ServiceMttxAPI(APIView):
    """GET /api/v1/metrics/services/?team=<slug>&start_week=2026-W40&end_week=2026-W47
    &drills=false: exact MTTD / MTTA / MTTR per service and ISO week (team's zone)."""

    @extend_schema(parameters=[ServiceMttxQuery], responses=ServiceMttxOut)
    def get(self, request):
        query = ServiceMttxQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        team = teams_for(request.user).filter(slug=data["team"]).first()
        if team is None:
            raise Http404("no such team")
        start_week, end_week = _mttx_week_range(data, time_zone=team.time_zone)
        rows = mttx_selectors.mttx_by_service_week(
            team=team, start_week=start_week, end_week=end_week, drills=data["drills"]
        )
        slugs = dict(Service.objects.filter(team=team).values_list("pk", "slug"))
        bounds = {r.week: r for r in mttx_weeks.week_ranges(start_week, end_week, team.time_zone)}
        results = []
        for row in rows:
            item = row.as_dict()
            item["service"] = slugs.get(row.service_id)
            item["week_start"] = _iso(bounds[row.week].start)
            item["week_end"] = _iso(bounds[row.week].end)
            results.append(item)
        return Response(
            {
                "team": team.slug,
                "time_zone": team.time_zone,
                "start_week": start_week,
                "end_week": end_week,
                "drills": data["drills"],
                "definitions": {
                    "impact_start": definitions.IMPACT_START,
                    "mttd": definitions.MTTD,
                    "mtta": definitions.MTTA,
                    "mttr": definitions.MTTR,
                },
                "results": results,
            }
        )
