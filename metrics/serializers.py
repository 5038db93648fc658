"""What the metrics API answers, for the OpenAPI schema: the drill, drill review, weekly
report and MTTx shapes. The views build their JSON with plain functions (drill_json,
review_json, ...); these serializers only describe it, field for field. Durations are
seconds (numbers), instants UTC ISO 8601."""

from __future__ import annotations

from rest_framework import serializers

from incidents.models import IncidentStatus
from metrics.drill_math import Result
from metrics.models import Drill

# How one drilled service did against one target (metrics.drill_math.Result).
TARGET_RESULTS = (
    Result.PASS,
    Result.FAIL,
    Result.MISSED,
    Result.WAITING,
    Result.PENDING,
    Result.NO_TARGET,
    Result.NOT_INJECTED,
)
# How a whole drill did: every target met, one failed, or not decided yet.
DRILL_RESULTS = ("pass", "fail", "pending")


def _seconds(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text or None)


def _instant(**kwargs) -> serializers.DateTimeField:
    return serializers.DateTimeField(allow_null=True, **kwargs)


# --- MTTx -------------------------------------------------------------------------------------


class SummaryOut(serializers.Serializer):
    """Durations in seconds; null when count is 0."""

    count = serializers.IntegerField()
    mean = _seconds()
    p50 = _seconds()
    p90 = _seconds()
    max = _seconds()


class DefinitionsOut(serializers.Serializer):
    """How each figure is measured, in words."""

    mttd = serializers.CharField()
    mtta = serializers.CharField()
    mttr = serializers.CharField()


class MttxDefinitionsOut(DefinitionsOut):
    impact_start = serializers.CharField()


class MttxWeekOut(serializers.Serializer):
    service_id = serializers.IntegerField(allow_null=True)
    service = serializers.SlugField(allow_null=True, help_text="the service's slug")
    week = serializers.CharField(help_text="ISO week in the team's zone, e.g. 2026-W47")
    week_start = serializers.DateTimeField()
    week_end = serializers.DateTimeField()
    incidents = serializers.IntegerField(help_text="incidents detected in the week")
    open = serializers.IntegerField(help_text="left out of MTTR")
    unacknowledged = serializers.IntegerField(help_text="left out of MTTA")
    mttd = SummaryOut()
    mtta = SummaryOut()
    mttr = SummaryOut()


class ServiceMttxOut(serializers.Serializer):
    team = serializers.SlugField()
    time_zone = serializers.CharField()
    start_week = serializers.CharField()
    end_week = serializers.CharField()
    drills = serializers.BooleanField(help_text="whether drill incidents are counted")
    definitions = MttxDefinitionsOut()
    results = MttxWeekOut(many=True, help_text="one row per service and week with incidents")


# --- drills -----------------------------------------------------------------------------------


class DrillTargetOut(serializers.Serializer):
    service = serializers.SlugField()
    name = serializers.CharField()
    max_mttd_seconds = serializers.IntegerField(allow_null=True)
    max_mttr_seconds = serializers.IntegerField(allow_null=True)
    injected_at = _instant()
    restored_at = _instant()


class DrillOut(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    team = serializers.SlugField()
    name = serializers.CharField()
    scenario = serializers.CharField()
    status = serializers.ChoiceField(choices=Drill.Status.choices, read_only=True)
    grace_seconds = serializers.IntegerField()
    created_at = serializers.DateTimeField(read_only=True)
    finished_at = _instant(read_only=True)
    services = DrillTargetOut(many=True)
    incidents = serializers.IntegerField(
        allow_null=True, read_only=True, help_text="how many incidents are attached"
    )
    url = serializers.CharField(read_only=True, help_text="the drill's page")


class DrillSummaryOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    team = serializers.SlugField()
    status = serializers.ChoiceField(choices=Drill.Status.choices)
    finished_at = _instant()


class DrillIncidentOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    detected_at = serializers.DateTimeField()
    acknowledged_at = _instant()
    resolved_at = _instant()
    automatic = serializers.BooleanField(help_text="attached by the drill window, not by hand")
    url = serializers.CharField(help_text="the incident's page")


class DrillHistoryOut(serializers.Serializer):
    drill = serializers.IntegerField(help_text="a past drill's id")
    name = serializers.CharField()
    injected_at = serializers.DateTimeField()
    mttd_seconds = _seconds()
    mttr_seconds = _seconds()
    passed = serializers.BooleanField(allow_null=True)


class DrillServiceReviewOut(serializers.Serializer):
    service = serializers.SlugField()
    name = serializers.CharField()
    injected_at = _instant()
    detected_at = _instant()
    acknowledged_at = _instant()
    resolved_at = _instant()
    restored_at = _instant()
    mttd_seconds = _seconds()
    mtta_seconds = _seconds()
    mttr_seconds = _seconds()
    max_mttd_seconds = serializers.IntegerField(allow_null=True)
    max_mttr_seconds = serializers.IntegerField(allow_null=True)
    mttd_result = serializers.ChoiceField(choices=TARGET_RESULTS)
    mttr_result = serializers.ChoiceField(choices=TARGET_RESULTS)
    missed = serializers.BooleanField(help_text="a fault was injected and nothing detected it")
    passed = serializers.BooleanField(allow_null=True, help_text="null while not decided")
    incidents = DrillIncidentOut(many=True)
    history = DrillHistoryOut(many=True, help_text="the service's past drills, oldest first")


class DrillReviewOut(serializers.Serializer):
    drill = DrillSummaryOut()
    result = serializers.ChoiceField(choices=DRILL_RESULTS)
    missed_detections = serializers.ListField(
        child=serializers.SlugField(), help_text="slugs of the services nothing detected"
    )
    services = DrillServiceReviewOut(many=True)
    definitions = DefinitionsOut()


# --- weekly reports ---------------------------------------------------------------------------


class ReportPreviousOut(serializers.Serializer):
    incidents_per_week = serializers.FloatField()
    mttd_mean = _seconds()
    mtta_mean = _seconds()
    mttr_mean = _seconds()


class ReportChangeOut(serializers.Serializer):
    """Percent change against the previous weeks; null when either side is missing or 0."""

    incidents = serializers.FloatField(allow_null=True)
    mttd = serializers.FloatField(allow_null=True)
    mtta = serializers.FloatField(allow_null=True)
    mttr = serializers.FloatField(allow_null=True)


class ReportServiceOut(serializers.Serializer):
    service_id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    incidents = serializers.IntegerField()
    alerts = serializers.IntegerField()
    open = serializers.IntegerField()
    unacknowledged = serializers.IntegerField()
    mttd = SummaryOut()
    mtta = SummaryOut()
    mttr = SummaryOut()
    previous = ReportPreviousOut(help_text="the mean of the compared weeks")
    change = ReportChangeOut()


class ReportTotalsOut(serializers.Serializer):
    incidents = serializers.IntegerField()
    alerts = serializers.IntegerField()


class ReportNoisiestOut(ReportTotalsOut):
    slug = serializers.SlugField()
    name = serializers.CharField()


class ReportDrillServiceOut(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    injected_at = _instant()
    mttd = _seconds()
    mttr = _seconds()
    max_mttd = serializers.IntegerField(allow_null=True)
    max_mttr = serializers.IntegerField(allow_null=True)
    mttd_result = serializers.ChoiceField(choices=TARGET_RESULTS)
    mttr_result = serializers.ChoiceField(choices=TARGET_RESULTS)
    missed = serializers.BooleanField()


class ReportDrillOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Drill.Status.choices)
    result = serializers.ChoiceField(choices=DRILL_RESULTS)
    services = ReportDrillServiceOut(many=True)


class ReportPersonOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    time_zone = serializers.CharField()
    pages = serializers.IntegerField()
    off_hours = serializers.IntegerField()


class ReportOncallLoadOut(serializers.Serializer):
    source = serializers.CharField(help_text="what counts as a page")
    people = ReportPersonOut(many=True)


class ReportPayloadOut(serializers.Serializer):
    """The report as it was built (metrics.report_data.week_payload), frozen."""

    team = serializers.SlugField()
    team_name = serializers.CharField()
    week = serializers.CharField()
    time_zone = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    built_at = serializers.DateTimeField()
    compared_weeks = serializers.ListField(child=serializers.CharField())
    totals = ReportTotalsOut()
    services = ReportServiceOut(many=True)
    noisiest = ReportNoisiestOut(many=True)
    drills = ReportDrillOut(many=True)
    oncall_load = ReportOncallLoadOut()
    definitions = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="each term's definition, by term (older snapshots may lack it)",
    )


class WeeklyReportOut(serializers.Serializer):
    team = serializers.SlugField()
    week = serializers.CharField(help_text="ISO week, e.g. 2026-W47")
    version = serializers.IntegerField(help_text="this snapshot's version")
    versions = serializers.ListField(
        child=serializers.IntegerField(), help_text="every snapshot's version, ascending"
    )
    built_at = serializers.DateTimeField()
    payload = ReportPayloadOut()
    csv = serializers.CharField(help_text="path of the report as CSV")
