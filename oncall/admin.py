from django import forms
from django.contrib import admin

from oncall.models import HandoffNotice, Layer, Membership, Override, Schedule, Team, UserProfile
from oncall.services import is_time_zone


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["team", "user", "role"]
    list_filter = ["role", "team"]


# Schedules are configured through the API and pages, where services validate them (team
# membership, DST-safe wall-clock times). The admin shows them and may delete, not edit.
class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class LayerInline(admin.TabularInline):
    model = Layer
    extra = 0
    fields = [
        "position",
        "name",
        "rotation_unit",
        "rotation_every",
        "handoff_date",
        "handoff_time",
        "restrictions",
        "end_date",
        "end_time",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Schedule)
class ScheduleAdmin(_ReadOnly):
    list_display = ["name", "team", "time_zone", "handoff_notice_seconds"]
    list_filter = ["team"]
    search_fields = ["name"]
    exclude = ["ical_token_hash"]
    inlines = [LayerInline]


@admin.register(Override)
class OverrideAdmin(_ReadOnly):
    list_display = ["schedule", "user", "start", "end", "replaces", "created_by", "created_at"]
    list_filter = ["schedule"]
    list_select_related = ["schedule", "user", "replaces", "created_by"]


@admin.register(HandoffNotice)
class HandoffNoticeAdmin(_ReadOnly):
    list_display = ["schedule", "user", "shift_start", "sent_at", "skipped_reason"]
    list_select_related = ["schedule", "user"]


class UserProfileForm(forms.ModelForm):
    class Meta:
        model = UserProfile
        fields = ["user", "time_zone"]

    def clean_time_zone(self) -> str:
        zone = self.cleaned_data["time_zone"]
        if not is_time_zone(zone):
            raise forms.ValidationError(f"Unknown IANA time zone {zone!r}.")
        return zone


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    form = UserProfileForm
    list_display = ["user", "time_zone"]
    list_select_related = ["user"]
