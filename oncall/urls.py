from django.urls import path, re_path

from oncall import api, api_invitations, api_teams, views, views_invitations

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
    path("schedules/", views.schedule_list, name="schedule-list"),
    path("schedules/<int:schedule_id>/", views.schedule_detail, name="schedule-detail"),
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
