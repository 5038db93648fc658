from django.urls import path, re_path

from oncall import (
    api,
    api_invitations,
    api_teams,
    views,
    views_editor,
    views_invitations,
    views_teams,
)

_TOKEN = r"(?P<token>[A-Za-z0-9_-]{16,128})"  # noqa: S105 - a pattern, not a secret

urlpatterns = [
    # invitations: the managers' page and API, and the invited person's link
    path("invitations/", views_invitations.invitation_list, name="invitation-list"),
    path(
        "invitations/<int:invitation_id>/resend",
        views_invitations.invitation_resend,
        name="invitation-resend",
    ),
    path(
        "invitations/<int:invitation_id>/revoke",
        views_invitations.invitation_revoke,
        name="invitation-revoke",
    ),
    path("invite/<str:token>/", views_invitations.invitation_accept, name="invitation-accept"),
    path("api/v1/invitations/", api_invitations.InvitationList.as_view(), name="api-invitations"),
    path(
        "api/v1/invitations/<int:invitation_id>/",
        api_invitations.InvitationDetail.as_view(),
        name="api-invitation",
    ),
    path(
        "api/v1/invitations/<int:invitation_id>/resend",
        api_invitations.InvitationResend.as_view(),
        name="api-invitation-resend",
    ),
    path("api/v1/teams/", api_teams.TeamList.as_view(), name="api-teams"),
    path("api/v1/teams/<slug:team>/", api_teams.TeamDetail.as_view(), name="api-team"),
    path(
        "api/v1/teams/<slug:team>/members/",
        api_teams.MemberList.as_view(),
        name="api-team-members",
    ),
    path(
        "api/v1/teams/<slug:team>/members/<str:username>/",
        api_teams.MemberDetail.as_view(),
        name="api-team-member",
    ),
    # Teams: any user starts one (and manages it); its managers change its members.
    path("teams/", views_teams.team_list, name="team-list"),
    path("teams/new", views_teams.team_new, name="team-new"),
    path("teams/<slug:team>/", views_teams.team_detail, name="team-detail"),
    path("teams/<slug:team>/settings", views_teams.team_settings, name="team-settings"),
    path("teams/<slug:team>/members/add", views_teams.member_add, name="team-member-add"),
    path("teams/<slug:team>/members/role", views_teams.member_role, name="team-member-role"),
    path("teams/<slug:team>/members/remove", views_teams.member_remove, name="team-member-remove"),
    path("schedules/", views.schedule_list, name="schedule-list"),
    path("schedules/<int:schedule_id>/", views.schedule_detail, name="schedule-detail"),
    # the schedule editor (managers), with its preview of the unsaved form
    path("schedules/new", views_editor.schedule_new, name="schedule-new"),
    path("schedules/new/preview", views_editor.schedule_new_preview, name="schedule-new-preview"),
    path("schedules/<int:schedule_id>/edit", views_editor.schedule_edit, name="schedule-edit"),
    path(
        "schedules/<int:schedule_id>/edit/preview",
        views_editor.schedule_edit_preview,
        name="schedule-edit-preview",
    ),
    path(
        "schedules/<int:schedule_id>/delete", views_editor.schedule_delete, name="schedule-delete"
    ),
    path(
        "schedules/<int:schedule_id>/timeline.json",
        views.schedule_timeline,
        name="schedule-timeline",
    ),
    path(
        "schedules/<int:schedule_id>/overrides/add",
        views.override_add,
        name="schedule-override-add",
    ),
    path(
        "schedules/<int:schedule_id>/overrides/<int:override_id>/remove",
        views.override_remove,
        name="schedule-override-remove",
    ),
    path(
        "schedules/<int:schedule_id>/ical/rotate",
        views.schedule_ical_rotate,
        name="schedule-ical-rotate",
    ),
    path("oncall/me/", views.my_oncall, name="oncall-me"),
    path("oncall/me/profile", views.my_profile, name="oncall-me-profile"),
    path("oncall/me/ical/rotate", views.my_ical_rotate, name="oncall-me-ical-rotate"),
    re_path(rf"^ical/schedule/{_TOKEN}\.ics$", views.schedule_feed, name="ical-schedule"),
    re_path(rf"^ical/user/{_TOKEN}\.ics$", views.user_feed, name="ical-user"),
    path("api/v1/schedules/", api.ScheduleList.as_view(), name="api-schedule-list"),
    path(
        "api/v1/schedules/<int:schedule_id>/",
        api.ScheduleDetail.as_view(),
        name="api-schedule-detail",
    ),
    path(
        "api/v1/schedules/<int:schedule_id>/shifts",
        api.ScheduleShifts.as_view(),
        name="api-schedule-shifts",
    ),
    path(
        "api/v1/schedules/<int:schedule_id>/oncall",
        api.ScheduleOncall.as_view(),
        name="api-schedule-oncall",
    ),
    path(
        "api/v1/schedules/<int:schedule_id>/gaps",
        api.ScheduleGaps.as_view(),
        name="api-schedule-gaps",
    ),
    path(
        "api/v1/schedules/<int:schedule_id>/overrides/",
        api.OverrideList.as_view(),
        name="api-override-list",
    ),
    path(
        "api/v1/schedules/<int:schedule_id>/overrides/<int:override_id>/",
        api.OverrideDetail.as_view(),
        name="api-override-detail",
    ),
]
