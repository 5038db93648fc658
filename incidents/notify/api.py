"""API for the user's OWN contact methods (/api/v1/contact-methods/), notification rules
(/api/v1/notification-rules/) and test page (/api/v1/test-page/). Anyone else's method or
rule is 404, whoever asks (staff too: where someone is paged is theirs). A webhook's signing
secret is in the answer to its creation only. The rules are in incidents.notify.contacts
and incidents.notify.rules_changes."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.fields import ObjectIdField
from core.pagination import PaginatedList
from incidents.models import Channel, ContactMethod, Notification, NotificationRule, Urgency
from incidents.notify import contacts, rules_changes, verification
from incidents.notify.address import MAX_LENGTH
from incidents.notify.rules import MAX_DELAY_SECONDS
from incidents.notify.selectors import contact_methods_of, notification_rules_of


class ContactMethodOut(serializers.ModelSerializer):
    class Meta:
        model = ContactMethod
        fields = [
            "id",
            "kind",
            "address",
            "enabled",
            "notify_escalations",
            "notify_handoffs",
            "verified",
            "verified_at",
            "code_sent_at",
            "created_at",
        ]
        read_only_fields = fields

    verified = serializers.SerializerMethodField(
        help_text="Pages go only to verified methods: enter the code sent through it "
        "(POST .../verify/), or link your Slack account from Slack."
    )
    code_sent_at = serializers.DateTimeField(
        source="verify_sent_at", read_only=True, allow_null=True
    )

    def get_verified(self, method) -> bool:
        return method.verified_at is not None


class ContactMethodCreated(ContactMethodOut):
    secret = serializers.SerializerMethodField(
        help_text="Webhooks only: the HMAC-SHA256 key of X-Pagerline-Signature. Shown once."
    )

    class Meta(ContactMethodOut.Meta):
        fields = [*ContactMethodOut.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, method) -> str | None:
        return method.secret if method.kind == Channel.WEBHOOK else None


class ContactMethodIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Channel.values)
    address = serializers.CharField(
        max_length=MAX_LENGTH,
        trim_whitespace=False,
        help_text="an email address, an http(s) URL, a phone number in E.164 form "
        "(+4915112345678), a Slack user id (U0123ABCD) or an Apprise URL "
        "(discord://..., ntfys://..., tgram://...; stored encrypted, shown masked)",
    )
    enabled = serializers.BooleanField(default=True)
    notify_escalations = serializers.BooleanField(default=True)
    notify_handoffs = serializers.BooleanField(default=False)


class ContactMethodPatch(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    notify_escalations = serializers.BooleanField(required=False)
    notify_handoffs = serializers.BooleanField(required=False)


class TestResult(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "channel", "status", "error", "duration_ms", "created_at", "finished_at"]
        read_only_fields = fields


def _mine(request, method_id: int) -> ContactMethod:
    method = contact_methods_of(request.user).filter(pk=method_id).first()
    if method is None:
        raise NotFound("no such contact method")
    return method


class ContactMethodList(PaginatedList, APIView):
    @extend_schema(responses=ContactMethodOut(many=True))
    def get(self, request):
        page = self.paginate_queryset(contact_methods_of(request.user))
        return self.get_paginated_response(ContactMethodOut(page, many=True).data)

    @extend_schema(request=ContactMethodIn, responses={201: ContactMethodCreated})
    def post(self, request):
        incoming = ContactMethodIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        method = contacts.contact_method_create(user=request.user, **incoming.validated_data)
        return Response(ContactMethodCreated(method).data, status=status.HTTP_201_CREATED)


class ContactMethodDetail(APIView):
    @extend_schema(responses=ContactMethodOut)
    def get(self, request, method_id: int):
        return Response(ContactMethodOut(_mine(request, method_id)).data)

    @extend_schema(request=ContactMethodPatch, responses=ContactMethodOut)
    def patch(self, request, method_id: int):
        method = _mine(request, method_id)
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
        fixed = sorted({"kind", "address", "secret"} & set(request.data))
        if fixed:
            raise ValidationError(
                {name: ["Cannot be changed; add a new contact method instead."] for name in fixed}
            )
        incoming = ContactMethodPatch(data=request.data)
        incoming.is_valid(raise_exception=True)
        contacts.contact_method_update(
            actor=request.user,
            method=method,
            **incoming.validated_data,
        )
        return Response(ContactMethodOut(method).data)

    @extend_schema(responses={204: None})
    def delete(self, request, method_id: int):
        method = _mine(request, method_id)
        contacts.contact_method_delete(actor=request.user, method=method)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactMethodTest(APIView):
    @extend_schema(
        request=None,
        responses={
            200: TestResult,
            429: inline_serializer("TestTooSoon", fields={"detail": serializers.CharField()}),
        },
    )
    def post(self, request, method_id: int):
        """Send a test through the method's transport now; the answer says how it went
        (status sent or failed, with the endpoint's error)."""
        method = _mine(request, method_id)
        try:
            row = contacts.contact_method_test(method=method)
        except contacts.TestTooSoon as exc:
            return _too_soon(exc)
        return Response(TestResult(row).data)


class CodeIn(serializers.Serializer):
    code = serializers.CharField(max_length=20, help_text="the six digits that were sent")


def _too_soon(exc) -> Response:
    return Response(
        {"detail": str(exc)},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(exc.retry_after)},
    )


class ContactMethodVerify(APIView):
    @extend_schema(request=CodeIn, responses=ContactMethodOut)
    def post(self, request, method_id: int):
        """Enter the code sent through the method: it is verified and receives pages."""
        method = _mine(request, method_id)
        incoming = CodeIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        method = verification.verification_check(method=method, **incoming.validated_data)
        return Response(ContactMethodOut(method).data)


class ContactMethodSendCode(APIView):
    @extend_schema(
        request=None,
        responses={
            202: ContactMethodOut,
            429: inline_serializer("CodeTooSoon", fields={"detail": serializers.CharField()}),
        },
    )
    def post(self, request, method_id: int):
        """Send a new verification code through the method (earlier codes stop working)."""
        method = _mine(request, method_id)
        try:
            verification.verification_send(method=method)
        except verification.CodeTooSoon as exc:
            return _too_soon(exc)
        method.refresh_from_db()
        return Response(ContactMethodOut(method).data, status=status.HTTP_202_ACCEPTED)


# --- notification rules -----------------------------------------------------------------------


class NotificationRuleOut(serializers.ModelSerializer):
    contact_method = serializers.PrimaryKeyRelatedField(read_only=True)
    contact_method_kind = serializers.CharField(source="contact_method.kind", read_only=True)
    contact_method_address = serializers.CharField(source="contact_method.address", read_only=True)

    class Meta:
        model = NotificationRule
        fields = [
            "id",
            "urgency",
            "delay_seconds",
            "contact_method",
            "contact_method_kind",
            "contact_method_address",
            "created_at",
        ]
        read_only_fields = fields


class NotificationRuleIn(serializers.Serializer):
    urgency = serializers.ChoiceField(
        choices=Urgency.choices,
        help_text="pages of this urgency run the rule (a service's high_urgency_severities "
        "say which severities are high)",
    )
    delay_seconds = serializers.IntegerField(
        min_value=0, max_value=MAX_DELAY_SECONDS, help_text="seconds after the page (0 to 24 h)"
    )
    contact_method = ObjectIdField(help_text="the id of one of your own contact methods")


class NotificationRulePatch(NotificationRuleIn):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


def _rule_fields(validated: dict) -> dict:
    fields = dict(validated)
    if "contact_method" in fields:
        fields["contact_method_id"] = fields.pop("contact_method")
    return fields


def _my_rule(request, rule_id: int) -> NotificationRule:
    rule = notification_rules_of(request.user).filter(pk=rule_id).first()
    if rule is None:
        raise NotFound("no such notification rule")
    return rule


class NotificationRuleList(PaginatedList, APIView):
    @extend_schema(
        responses=NotificationRuleOut(many=True),
        parameters=[
            OpenApiParameter("urgency", str, enum=Urgency.values, description="only this urgency")
        ],
    )
    def get(self, request):
        """Your rules, high urgency first, each urgency in the order its steps fire."""
        found = notification_rules_of(request.user)
        urgency = request.query_params.get("urgency")
        if urgency is not None:
            if urgency not in Urgency.values:
                raise ValidationError(
                    {"urgency": [f"Expected one of {', '.join(Urgency.values)}."]}
                )
            found = found.filter(urgency=urgency)
        page = self.paginate_queryset(found)
        return self.get_paginated_response(NotificationRuleOut(page, many=True).data)

    @extend_schema(request=NotificationRuleIn, responses={201: NotificationRuleOut})
    def post(self, request):
        incoming = NotificationRuleIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        rule = rules_changes.notification_rule_create(
            user=request.user, **_rule_fields(incoming.validated_data)
        )
        return Response(NotificationRuleOut(rule).data, status=status.HTTP_201_CREATED)


class NotificationRuleDetail(APIView):
    @extend_schema(responses=NotificationRuleOut)
    def get(self, request, notification_rule_id: int):
        return Response(NotificationRuleOut(_my_rule(request, notification_rule_id)).data)

    @extend_schema(request=NotificationRulePatch, responses=NotificationRuleOut)
    def patch(self, request, notification_rule_id: int):
        rule = _my_rule(request, notification_rule_id)
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
        incoming = NotificationRulePatch(data=request.data)
        incoming.is_valid(raise_exception=True)
        rules_changes.notification_rule_update(
            actor=request.user, rule=rule, **_rule_fields(incoming.validated_data)
        )
        return Response(NotificationRuleOut(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request, notification_rule_id: int):
        rule = _my_rule(request, notification_rule_id)
        rules_changes.notification_rule_delete(actor=request.user, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TestPageIn(serializers.Serializer):
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.HIGH)


class TestPageRow(serializers.ModelSerializer):
    send_at = serializers.DateTimeField(source="next_attempt_at", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "channel", "contact_method", "subject", "status", "send_at"]
        read_only_fields = fields


class TestPageOut(serializers.Serializer):
    queued = TestPageRow(many=True, help_text="one row per contact method and rule step")


class TestPage(APIView):
    @extend_schema(
        request=TestPageIn,
        responses={
            202: TestPageOut,
            429: inline_serializer("TestPageTooSoon", fields={"detail": serializers.CharField()}),
        },
    )
    def post(self, request):
        """Run your own notification rules (or, with none, every contact method that can be
        paged) with a test message and no incident: each step is sent at its delay from
        now. The answer lists what was queued; how each went shows in your notifications
        (contact methods page), like any page. One test page a minute."""
        incoming = TestPageIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            rows = rules_changes.user_test_page(user=request.user, **incoming.validated_data)
        except contacts.TestTooSoon as exc:
            return Response(
                {"detail": str(exc)},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(exc.retry_after)},
            )
        return Response(TestPageOut({"queued": rows}).data, status=status.HTTP_202_ACCEPTED)
