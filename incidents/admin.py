from django.contrib import admin, messages

from incidents import services
from incidents.models import (
    Alert,
    AlertDelivery,
    DeliveryStatus,
    Incident,
    IncidentEvent,
    Integration,
    Service,
)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "team"]
    list_filter = ["team"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
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
            services.delivery_retry(delivery=delivery)
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


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["fingerprint", "incident", "status", "starts_at", "fire_count"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in Alert._meta.fields]
