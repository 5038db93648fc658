from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.contrib.admin.utils import unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.http import HttpResponseRedirect
from django.urls import reverse

from core.models import ApiToken, AuditEntry
from core.services import user_deactivate, user_deletion_refusal


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request):
        return False  # tokens are created by their owner, who sees the value once


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "summary", "team_id"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    """Django's user admin, except that a user named in kept history (incident timelines)
    is refused deletion with the reason, and is deactivated instead (an action)."""

    actions = ["delete_selected", "deactivate"]

    def delete_view(self, request, object_id, extra_context=None):
        user = self.get_object(request, unquote(object_id))
        if user is not None and self.has_delete_permission(request, user):
            refusal = user_deletion_refusal(user=user)
            if refusal:
                self.message_user(request, refusal, messages.ERROR)
                change = f"admin:{self.opts.app_label}_{self.opts.model_name}_change"
                return HttpResponseRedirect(reverse(change, args=[user.pk]))
        return super().delete_view(request, object_id, extra_context)

    @admin.action(permissions=["delete"], description="Delete selected users")
    def delete_selected(self, request, queryset):
        refusals = [refusal for user in queryset if (refusal := user_deletion_refusal(user=user))]
        for refusal in refusals:
            self.message_user(request, refusal, messages.ERROR)
        if refusals:
            return None  # back to the list, nobody deleted
        return admin_actions.delete_selected(self, request, queryset)

    @admin.action(permissions=["change"], description="Deactivate selected users")
    def deactivate(self, request, queryset):
        count = sum(user_deactivate(user=user, by=request.user) for user in queryset)
        self.message_user(
            request,
            f"{count} user(s) deactivated: they can no longer sign in or use API tokens, "
            "and stay named where they acted.",
            messages.SUCCESS,
        )
