from django.urls import path, re_path

from metrics import api, api_drills, exposition, views, views_drills, views_reports

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("checklist/<slug:team>/dismiss", views.checklist_dismiss, name="checklist-dismiss"),
    # --- drills, weekly reports, service pages -------------------------------------------
    path("services/<slug:slug>/", views.service_page, name="service-page"),
    path("drills/", views_drills.drill_list, name="drill-list"),
    path("drills/new", views_drills.drill_new, name="drill-new"),
    path("drills/<int:drill_id>/", views_drills.drill_review, name="drill-review"),
    path("drills/<int:drill_id>/<slug:action>", views_drills.drill_action, name="drill-action"),
    path("reports/<slug:team>/", views_reports.report_index, name="report-index"),
    path("reports/<slug:team>/subscribe", views_reports.report_subscribe, name="report-subscribe"),
    re_path(
        r"^reports/(?P<team>[-\w]+)/(?P<week>\d{4}-W\d{2})/$",
        views_reports.report_page,
        name="report-page",
    ),
    re_path(
        r"^reports/(?P<team>[-\w]+)/(?P<week>\d{4}-W\d{2})\.csv$",
        views_reports.report_csv,
        name="report-csv",
    ),
    # The chaos tooling's paths, with or without a trailing slash.
    re_path(r"^api/v1/drills/?$", api_drills.DrillListAPI.as_view(), name="api-drills"),
    re_path(
        r"^api/v1/drills/(?P<drill_id>\d+)/?$",
        api_drills.DrillDetailAPI.as_view(),
        name="api-drill",
    ),
    re_path(
        r"^api/v1/drills/(?P<drill_id>\d+)/review/?$",
        api_drills.DrillReviewAPI.as_view(),
        name="api-drill-review",
    ),
    re_path(
        r"^api/v1/drills/(?P<drill_id>\d+)/inject/?$",
        api_drills.DrillInjectAPI.as_view(),
        name="api-drill-inject",
    ),
    re_path(
        r"^api/v1/drills/(?P<drill_id>\d+)/restore/?$",
        api_drills.DrillRestoreAPI.as_view(),
        name="api-drill-restore",
    ),
    re_path(
        r"^api/v1/drills/(?P<drill_id>\d+)/finish/?$",
        api_drills.DrillFinishAPI.as_view(),
        name="api-drill-finish",
    ),
    re_path(
        r"^api/v1/drills/(?P<drill_id>\d+)/attach/?$",
        api_drills.DrillAttachAPI.as_view(),
        name="api-drill-attach",
    ),
    re_path(
        r"^api/v1/drills/(?P<drill_id>\d+)/detach/?$",
        api_drills.DrillDetachAPI.as_view(),
        name="api-drill-detach",
    ),
    re_path(
        r"^api/v1/reports/(?P<team>[-\w]+)/(?P<week>\d{4}-W\d{2})/?$",
        api_drills.WeeklyReportAPI.as_view(),
        name="api-weekly-report",
    ),
    # --- metrics engine ---------------------------------------------------------------------
    path("metrics", exposition.prometheus_metrics, name="prometheus-metrics"),
    path("api/v1/metrics/services/", api.ServiceMttxAPI.as_view(), name="api-metrics-services"),
]
