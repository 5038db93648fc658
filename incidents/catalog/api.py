"""API for a team's configuration: services, integrations (token shown once; rotate) and
routing rules. Viewers read; managers write; outsiders get 404."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.fields import MAX_STORED_INT, ObjectIdField, SlugLookupField, query_text
from core.pagination import PaginatedList
from incidents.alerts import Severity
from incidents.catalog import changes, selectors
from incidents.intake import routing, sources
from incidents.models import Integration, RoutingRule, Service
from incidents.timeline.selectors import services_for
from oncall.models import Team
from oncall.permissions import can_manage
from oncall.selectors import teams_for


def _require_manager(user, team_id: int) -> None:
    if not can_manage(user, team_id):
        raise PermissionDenied("only the team's managers can change its configuration")


SEVERITIES = [severity.value for severity in Severity]
HIGH_URGENCY_HELP = (
    "incidents of these severities page people with their high-urgency notification rules, "
    "the others with their low-urgency rules"
)


class ServiceSerializer(serializers.ModelSerializer):
    """A service; on create, the settings after `description` are optional and checked by
    catalog.changes as an edit's are (the service pages create through the same function)."""

    team = SlugLookupField(slug_field="slug", queryset=Team.objects.all())
    escalation_policy = ObjectIdField(
        source="escalation_policy_id",
        allow_null=True,
        required=False,
        help_text="the id of an escalation policy of the service's team; null: nobody is paged",
    )
    high_urgency_severities = serializers.ListField(
        child=serializers.ChoiceField(choices=SEVERITIES),
        allow_empty=True,
        max_length=len(SEVERITIES),
        required=False,
        help_text=HIGH_URGENCY_HELP,
    )
    slack_channel = serializers.CharField(
        max_length=64,
        allow_blank=True,
        required=False,
        help_text="a Slack channel ID (C0123ABCD) each new incident is posted to; blank: none",
    )

    class Meta:
        model = Service
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "team",
            "escalation_policy",
            "high_urgency_severities",
            "slack_channel",
        ]


class ServiceUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    escalation_policy = ObjectIdField(allow_null=True, required=False)
    slack_channel = serializers.CharField(
        max_length=64,
        allow_blank=True,
        required=False,
        help_text="a Slack channel ID (C0123ABCD) each new incident is posted to; blank: none",
    )
    high_urgency_severities = serializers.ListField(
        child=serializers.ChoiceField(choices=SEVERITIES),
        allow_empty=True,
        max_length=len(SEVERITIES),
        required=False,
        help_text=HIGH_URGENCY_HELP,
    )


class IntegrationSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    options = serializers.DictField(
        read_only=True, help_text="the source's settings, e.g. the generic source's mapping"
    )
    webhook_path = serializers.SerializerMethodField()

    class Meta:
        model = Integration
        fields = [
            "id",
            "service",
            "name",
            "source",
            "token_prefix",
            "enabled",
            "created_at",
            "reopen_window_seconds",
            "heartbeat_interval_seconds",
            "last_heartbeat_at",
            "options",
            "webhook_path",
        ]
        read_only_fields = fields

    def get_webhook_path(self, obj) -> str:
        return f"/hooks/{obj.source}/<token>"


class IntegrationCreateSerializer(serializers.Serializer):
    service = serializers.SlugField()
    source = serializers.ChoiceField(choices=sorted(sources.REGISTRY))
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class IntegrationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    enabled = serializers.BooleanField(required=False)
    reopen_window_seconds = serializers.IntegerField(min_value=0, max_value=604800, required=False)
    heartbeat_interval_seconds = serializers.IntegerField(
        min_value=60, max_value=MAX_STORED_INT, allow_null=True, required=False
    )
    options = serializers.DictField(required=False)


class IntegrationTokenSerializer(IntegrationSerializer):
    token = serializers.CharField(help_text="Shown once: keep it secret.")
    webhook_url = serializers.CharField()

    class Meta(IntegrationSerializer.Meta):
        fields = [*IntegrationSerializer.Meta.fields, "token", "webhook_url"]
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "label": {"type": "string"},
                "op": {"type": "string", "enum": list(routing.OPERATORS), "default": "="},
                "value": {"type": "string", "description": "a regular expression for =~ and !~"},
            },
            "required": ["label", "value"],
        },
        "minItems": 1,
        "description": "all must hold for an alert's labels",
    }
)
class MatchersField(serializers.JSONField):
    """Checked by incidents.intake.routing.validate_matchers, which names the refused matcher."""


class RoutingRuleSerializer(serializers.ModelSerializer):
    service = SlugLookupField(slug_field="slug", queryset=Service.objects.all())
    matchers = MatchersField()

    class Meta:
        model = RoutingRule
        fields = ["id", "position", "matchers", "service"]


def _with_token(integration: Integration, token: str) -> dict:
    integration.token = token
    integration.webhook_url = changes.webhook_url(integration=integration, token=token)
    return IntegrationTokenSerializer(integration).data


class ServiceList(PaginatedList, APIView):
    @extend_schema(responses=ServiceSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(services_for(request.user).order_by("name", "pk"))
        return self.get_paginated_response(ServiceSerializer(page, many=True).data)

    @extend_schema(request=ServiceSerializer, responses={201: ServiceSerializer})
    def post(self, request):
        serializer = ServiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = serializer.validated_data["team"]
        if not teams_for(request.user).filter(pk=team.pk).exists():
            raise ValidationError({"team": ["no such team"]})
        _require_manager(request.user, team.pk)
        service = changes.service_create(actor=request.user, **serializer.validated_data)
        return Response(ServiceSerializer(service).data, status=status.HTTP_201_CREATED)


def _service(request, slug: str) -> Service:
    service = services_for(request.user).filter(slug=slug).first()
    if service is None:
        raise Http404("no such service")
    return service


class ServiceDetail(APIView):
    @extend_schema(responses=ServiceSerializer)
    def get(self, request, slug: str):
        return Response(ServiceSerializer(_service(request, slug)).data)

    @extend_schema(request=ServiceUpdateSerializer, responses=ServiceSerializer)
    def patch(self, request, slug: str):
        service = _service(request, slug)
        _require_manager(request.user, service.team_id)
        serializer = ServiceUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        if "escalation_policy" in fields:
            fields["escalation_policy_id"] = fields.pop("escalation_policy")
        changes.service_update(actor=request.user, service=service, **fields)
        return Response(ServiceSerializer(service).data)


def _integrations(request):
    return Integration.objects.filter(service__in=services_for(request.user)).select_related(
        "service"
    )


def _integration(request, integration_id: int) -> Integration:
    integration = _integrations(request).filter(pk=integration_id).first()
    if integration is None:
        raise Http404("no such integration")
    return integration


_SERVICE = OpenApiParameter("service", OpenApiTypes.STR, description="only this service's (slug)")


class IntegrationList(PaginatedList, APIView):
    @extend_schema(parameters=[_SERVICE], responses=IntegrationSerializer(many=True))
    def get(self, request):
        integrations = _integrations(request)
        service = query_text(request, "service")
        if service:
            integrations = integrations.filter(service__slug=service)
        page = self.paginate_queryset(integrations.order_by("service__name", "name", "pk"))
        return self.get_paginated_response(IntegrationSerializer(page, many=True).data)

    @extend_schema(request=IntegrationCreateSerializer, responses={201: IntegrationTokenSerializer})
    def post(self, request):
        serializer = IntegrationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service = (
            services_for(request.user).filter(slug=serializer.validated_data["service"]).first()
        )
        if service is None:
            raise ValidationError({"service": ["no such service"]})
        _require_manager(request.user, service.team_id)
        integration, token = changes.integration_add(
            actor=request.user,
            service=service,
            source=serializer.validated_data["source"],
            name=serializer.validated_data.get("name", ""),
        )
        return Response(_with_token(integration, token), status=status.HTTP_201_CREATED)


class IntegrationDetail(APIView):
    @extend_schema(responses=IntegrationSerializer)
    def get(self, request, integration_id: int):
        return Response(IntegrationSerializer(_integration(request, integration_id)).data)

    @extend_schema(request=IntegrationUpdateSerializer, responses=IntegrationSerializer)
    def patch(self, request, integration_id: int):
        integration = _integration(request, integration_id)
        _require_manager(request.user, integration.service.team_id)
        serializer = IntegrationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes.integration_update(
            actor=request.user,
            integration=integration,
            **serializer.validated_data,
        )
        return Response(IntegrationSerializer(integration).data)

    @extend_schema(responses={204: None})
    def delete(self, request, integration_id: int):
        integration = _integration(request, integration_id)
        _require_manager(request.user, integration.service.team_id)
        changes.integration_delete(actor=request.user, integration=integration)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IntegrationRotate(APIView):
    @extend_schema(request=None, responses=IntegrationTokenSerializer)
    def post(self, request, integration_id: int):
        integration = _integration(request, integration_id)
        _require_manager(request.user, integration.service.team_id)
        token = changes.integration_rotate(actor=request.user, integration=integration)
        return Response(_with_token(integration, token))


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="delivery.pk")
    received_at = serializers.DateTimeField(source="delivery.received_at")
    status = serializers.CharField(source="delivery.status")
    attempts = serializers.IntegerField(source="delivery.attempts")
    processed_at = serializers.DateTimeField(source="delivery.processed_at", allow_null=True)
    error = serializers.CharField(source="delivery.error", help_text="why processing failed")
    note = serializers.CharField(
        source="delivery.note", help_text="what processing recorded but did not apply"
    )
    parsed = serializers.CharField(
        help_text="what the body parses into (alerts and their status), or why it does not"
    )
    parse_failed = serializers.BooleanField()
    test = serializers.BooleanField(help_text="a test alert sent from Pagerline")


class IntegrationDeliveries(PaginatedList, APIView):
    @extend_schema(responses=DeliverySerializer(many=True))
    def get(self, request, integration_id: int):
        integration = _integration(request, integration_id)
        page = self.paginate_queryset(selectors.integration_deliveries(integration))
        rows = selectors.delivery_rows(integration, page)
        return self.get_paginated_response(DeliverySerializer(rows, many=True).data)


class TestAlertSerializer(serializers.Serializer):
    delivery = serializers.IntegerField(help_text="the stored delivery; a worker processes it")


class IntegrationTest(APIView):
    @extend_schema(request=None, responses={202: TestAlertSerializer})
    def post(self, request, integration_id: int):
        integration = _integration(request, integration_id)
        _require_manager(request.user, integration.service.team_id)
        delivery_id = changes.integration_send_test(actor=request.user, integration=integration)
        return Response({"delivery": delivery_id}, status=status.HTTP_202_ACCEPTED)


class RoutingRuleList(PaginatedList, APIView):
    @extend_schema(responses=RoutingRuleSerializer(many=True))
    def get(self, request, integration_id: int):
        integration = _integration(request, integration_id)
        page = self.paginate_queryset(integration.routing_rules.select_related("service"))
        return self.get_paginated_response(RoutingRuleSerializer(page, many=True).data)

    @extend_schema(request=RoutingRuleSerializer, responses={201: RoutingRuleSerializer})
    def post(self, request, integration_id: int):
        integration = _integration(request, integration_id)
        _require_manager(request.user, integration.service.team_id)
        serializer = RoutingRuleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = serializer.validated_data["service"]
        if not services_for(request.user).filter(pk=target.pk).exists():
            raise ValidationError({"service": ["no such service"]})
        rule = changes.routing_rule_create(
            actor=request.user,
            integration=integration,
            matchers=serializer.validated_data["matchers"],
            service=target,
            position=serializer.validated_data.get("position", 0),
        )
        return Response(RoutingRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RoutingRuleDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, integration_id: int, rule_id: int):
        integration = _integration(request, integration_id)
        _require_manager(request.user, integration.service.team_id)
        rule = integration.routing_rules.filter(pk=rule_id).first()
        if rule is None:
            raise Http404("no such routing rule")
        changes.routing_rule_delete(actor=request.user, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)
