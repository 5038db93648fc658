from django.urls import path

from incidents import hooks, views

urlpatterns = [
    path("hooks/<slug:source>/<str:token>", hooks.alert_webhook, name="alert-webhook"),
    path("hooks/<slug:source>", hooks.alert_webhook, name="alert-webhook-bearer"),
    path("incidents/feed.json", views.incidents_feed, name="incidents-feed"),
    path("incidents/<int:incident_id>/", views.incident_detail, name="incident-detail"),
    path(
        "incidents/<int:incident_id>/<slug:action>",
        views.incident_action,
        name="incident-action",
    ),
]
