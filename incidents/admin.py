from django import forms
from django.contrib import admin, messages

from core.errors import FieldErrors
from core.text import NUL_MESSAGE, has_nul
from incidents import models as paging_models
from incidents.catalog.changes import high_urgency_checked
from incidents.intake import drain
from incidents.maintenance import windows as maintenance_services
from incidents.models import (
    Alert,
    AlertDelivery,
    DeliveryStatus,
    Incident,
    IncidentEvent,
    Integration,
    Service,
)
from incidents.notify import sending as notification_services
from incidents.notify.address import address_problem


class ServiceAdminForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "team",
            "slug",
            "name",
            "description",
            "escalation_policy",
            "high_urgency_severities",
            "slack_channel",
        ]

    def clean_high_urgency_severities(self):
        try:
            return high_urgency_checked(self.cleaned_data["high_urgency_severities"])
        except FieldErrors as exc:
            raise forms.ValidationError(" ".join(exc.errors["high_urgency_severities"])) from None


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceAdminForm
    list_display = ["name", "slug", "team"]
    list_filter = ["team"]
    prepopulated_fields = {"slug": ["name"]}


class IntegrationAdminForm(forms.ModelForm):
    def clean_options(self):
        options = self.cleaned_data["options"]
        if has_nul(options):  # jsonb cannot store it
            raise forms.ValidationError(NUL_MESSAGE)
        return options


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationAdminForm
    list_display = ["name", "service", "source", "token_prefix", "enabled", "created_at"]
    list_filter = ["source", "enabled"]
    readonly_fields = ["token_prefix", "created_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request):
        # Tokens are shown once at creation: use `manage.py create_integration` or the API.
        return False


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "integration", "status", "received_at", "attempts", "error"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in AlertDelivery._meta.fields]
    actions = ["retry"]

    @admin.action(description="Retry selected failed deliveries")
    def retry(self, request, queryset):
        failed = queryset.filter(status=DeliveryStatus.FAILED)
        for delivery in failed:
            drain.delivery_retry(delivery=delivery)
        messages.info(request, f"{failed.count()} failed deliveries queued again")


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["seq", "kind", "at", "actor", "actor_label", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "service", "status", "severity", "detected_at"]
    list_filter = ["status", "severity", "service"]
    readonly_fields = [f.name for f in Incident._meta.fields]
    inlines = [IncidentEventInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Its timeline cannot be deleted (the database refuses outside timeline_removal()),
        # so offering the button would only end in an error.
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["fingerprint", "incident", "status", "starts_at", "fire_count"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in Alert._meta.fields]


# --- paging: escalation policies, contact methods, notifications, maintenance, breakers -----


class EscalationTargetInline(admin.TabularInline):
    model = paging_models.EscalationTarget
    extra = 1


@admin.register(paging_models.EscalationStep)
class EscalationStepAdmin(admin.ModelAdmin):
    list_display = ["policy", "position", "delay_seconds"]
    list_filter = ["policy"]
    inlines = [EscalationTargetInline]


class EscalationStepInline(admin.TabularInline):
    model = paging_models.EscalationStep
    extra = 1
    show_change_link = True


@admin.register(paging_models.EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "repeat", "fallback_user", "updated_at"]
    list_filter = ["team"]
    inlines = [EscalationStepInline]


@admin.register(paging_models.IncidentEscalation)
class IncidentEscalationAdmin(admin.ModelAdmin):
    list_display = ["incident", "state", "step_index", "round", "next_fire_at", "last_fired_at"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in paging_models.IncidentEscalation._meta.fields]

    def has_add_permission(self, request):
        return False


class ContactMethodAdminForm(forms.ModelForm):
    class Meta:
        model = paging_models.ContactMethod
        fields = ["user", "kind", "address", "enabled", "notify_escalations", "notify_handoffs"]

    def clean(self):
        data = super().clean()
        # The same rule as the contact method pages and API (incidents.notify.contacts).
        problem = address_problem(data.get("kind", ""), data.get("address", ""))
        if problem:
            self.add_error("address", problem)
        return data


@admin.register(paging_models.ContactMethod)
class ContactMethodAdmin(admin.ModelAdmin):
    form = ContactMethodAdminForm
    list_display = ["user", "kind", "address", "enabled", "notify_escalations", "notify_handoffs"]
    list_filter = ["kind", "enabled"]
    readonly_fields = ["secret", "created_at"]


@admin.register(paging_models.Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "incident",
        "user",
        "channel",
        "reason",
        "status",
        "attempt",
        "next_attempt_at",
        "duration_ms",
        "error",
    ]
    list_filter = ["status", "channel", "reason"]
    readonly_fields = [f.name for f in paging_models.Notification._meta.fields]
    list_select_related = ["incident", "user"]

    def has_add_permission(self, request):
        return False


@admin.register(paging_models.MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["reason", "team", "starts_at", "ends_at", "cancelled_at", "created_by"]
    list_filter = ["team"]
    filter_horizontal = ["services"]
    readonly_fields = ["cancelled_at", "created_at"]
    actions = ["end_now"]

    @admin.action(description="End selected windows now (paging resumes)")
    def end_now(self, request, queryset):
        ended = 0
        for window in queryset:
            try:
                maintenance_services.maintenance_end(window_id=window.pk, user=request.user)
                ended += 1
            except FieldErrors:
                pass
        messages.info(request, f"{ended} maintenance windows ended")


@admin.register(paging_models.CircuitBreaker)
class CircuitBreakerAdmin(admin.ModelAdmin):
    list_display = ["endpoint", "state", "failures", "opened_at", "updated_at", "last_error"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in paging_models.CircuitBreaker._meta.fields]
    actions = ["close"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Close selected breakers (retry held notifications now)")
    def close(self, request, queryset):
        for breaker in queryset:
            notification_services.breaker_reset(endpoint=breaker.endpoint)
        messages.info(request, f"{queryset.count()} breakers closed")
