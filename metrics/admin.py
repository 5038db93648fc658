from django.contrib import admin

from metrics.models import Drill, DrillIncident, DrillService, ReportSubscription, WeeklyReport


class DrillServiceInline(admin.TabularInline):
    model = DrillService
    extra = 0
    readonly_fields = ["injected_at", "restored_at"]


@admin.register(Drill)
class DrillAdmin(admin.ModelAdmin):
    """Read and tidy drills; drive them from the drill pages or the API (which keep the
    incidents' timelines in step)."""

    list_display = ["name", "team", "status", "created_at", "finished_at"]
    list_filter = ["team", "status"]
    readonly_fields = ["status", "created_by", "created_at", "finished_at"]
    inlines = [DrillServiceInline]


@admin.register(DrillIncident)
class DrillIncidentAdmin(admin.ModelAdmin):
    list_display = ["incident", "drill", "service", "automatic", "attached_at"]
    list_filter = ["automatic"]

    def has_add_permission(self, request):
        return False  # attach from the drill page: it writes the timeline entry too

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WeeklyReport)
class WeeklyReportAdmin(admin.ModelAdmin):
    """Snapshots are immutable: build new versions with `manage.py weekly_report --rebuild`."""

    list_display = ["team", "week", "version", "built_at"]
    list_filter = ["team"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["team", "user", "created_at"]
    list_filter = ["team"]
