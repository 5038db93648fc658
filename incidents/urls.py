from django.urls import path

from incidents import (
    api,
    api_config,
    api_contacts,
    api_maintenance,
    api_policies,
    hooks,
    views,
    views_audit,
    views_contacts,
    views_intake,
    views_paging,
    views_policies,
)

# Escalation policies (members read, managers change) and the user's own contact methods.
_policy_urls = [
    path("escalation-policies/", views_policies.policy_list, name="escalation-policy-list"),
    path("escalation-policies/new", views_policies.policy_new, name="escalation-policy-new"),
    path(
        "escalation-policies/<int:policy_id>/",
        views_policies.policy_detail,
        name="escalation-policy-detail",
    ),
    path(
        "escalation-policies/<int:policy_id>/edit",
        views_policies.policy_edit,
        name="escalation-policy-edit",
    ),
    path(
        "escalation-policies/<int:policy_id>/delete",
        views_policies.policy_delete,
        name="escalation-policy-delete",
    ),
    path(
        "escalation-policies/<int:policy_id>/services",
        views_policies.policy_services,
        name="escalation-policy-services",
    ),
    path(
        "api/v1/escalation-policies/",
        api_policies.EscalationPolicyList.as_view(),
        name="api-escalation-policies",
    ),
    path(
        "api/v1/escalation-policies/<int:policy_id>/",
        api_policies.EscalationPolicyDetail.as_view(),
        name="api-escalation-policy",
    ),
    path("account/contact-methods/", views_contacts.contact_methods, name="contact-methods"),
    path(
        "account/contact-methods/<int:method_id>/update",
        views_contacts.contact_method_update,
        name="contact-method-update",
    ),
    path(
        "account/contact-methods/<int:method_id>/test",
        views_contacts.contact_method_test,
        name="contact-method-test",
    ),
    path(
        "account/contact-methods/<int:method_id>/delete",
        views_contacts.contact_method_delete,
        name="contact-method-delete",
    ),
    path("account/time-zone", views_contacts.time_zone, name="account-time-zone"),
    path(
        "api/v1/contact-methods/",
        api_contacts.ContactMethodList.as_view(),
        name="api-contact-methods",
    ),
    path(
        "api/v1/contact-methods/<int:method_id>/",
        api_contacts.ContactMethodDetail.as_view(),
        name="api-contact-method",
    ),
    path(
        "api/v1/contact-methods/<int:method_id>/test/",
        api_contacts.ContactMethodTest.as_view(),
        name="api-contact-method-test",
    ),
]

# Alert webhooks: config/urls.py lists them first, so the busiest path resolves fastest.
hook_urlpatterns = [
    path("hooks/heartbeat/<str:token>", hooks.heartbeat, name="heartbeat"),
    path("hooks/<slug:source>/<str:token>", hooks.alert_webhook, name="alert-webhook"),
    path("hooks/<slug:source>", hooks.alert_webhook, name="alert-webhook-bearer"),
    # PagerDuty's own path, so its client libraries work with only the base URL changed;
    # some clients are configured with a trailing slash.
    path("v2/enqueue", hooks.pagerduty_enqueue, name="pagerduty-enqueue"),
    path("v2/enqueue/", hooks.pagerduty_enqueue),
]

urlpatterns = [
    *_policy_urls,
    path("maintenance/", views_paging.maintenance_list, name="maintenance-list"),
    path("maintenance/<int:window_id>/end", views_paging.maintenance_end, name="maintenance-end"),
    path("notifications/breakers/", views_paging.circuit_breakers, name="circuit-breakers"),
    path(
        "api/v1/maintenance-windows/",
        api_maintenance.MaintenanceWindowList.as_view(),
        name="api-maintenance-windows",
    ),
    path(
        "api/v1/maintenance-windows/<int:window_id>/",
        api_maintenance.MaintenanceWindowDetail.as_view(),
        name="api-maintenance-window",
    ),
    path(
        "api/v1/maintenance-windows/<int:window_id>/end",
        api_maintenance.MaintenanceWindowEnd.as_view(),
        name="api-maintenance-window-end",
    ),
    path("incidents/feed.json", views.incidents_feed, name="incidents-feed"),
    path("deliveries/failed/", views_intake.failed_deliveries, name="failed-deliveries"),
    path(
        "deliveries/<int:delivery_id>/retry",
        views_intake.delivery_retry,
        name="delivery-retry",
    ),
    path("incidents/", views.incident_list, name="incident-list"),
    path("incidents/new", views.incident_new, name="incident-new"),
    path("incidents/<int:incident_id>/", views.incident_detail, name="incident-detail"),
    path("incidents/<int:incident_id>/state.json", views.incident_state, name="incident-state"),
    path(
        "incidents/<int:incident_id>/<slug:action>",
        views.incident_action,
        name="incident-action",
    ),
    path("audit/", views_audit.audit_log, name="audit-log"),
    path("api/v1/audit/", views_audit.AuditList.as_view(), name="api-audit"),
    path("api/v1/services/", api_config.ServiceList.as_view(), name="api-services"),
    path("api/v1/services/<slug:slug>/", api_config.ServiceDetail.as_view(), name="api-service"),
    path("api/v1/integrations/", api_config.IntegrationList.as_view(), name="api-integrations"),
    path(
        "api/v1/integrations/<int:integration_id>/",
        api_config.IntegrationDetail.as_view(),
        name="api-integration",
    ),
    path(
        "api/v1/integrations/<int:integration_id>/rotate/",
        api_config.IntegrationRotate.as_view(),
        name="api-integration-rotate",
    ),
    path(
        "api/v1/integrations/<int:integration_id>/routing-rules/",
        api_config.RoutingRuleList.as_view(),
        name="api-routing-rules",
    ),
    path(
        "api/v1/integrations/<int:integration_id>/routing-rules/<int:rule_id>/",
        api_config.RoutingRuleDetail.as_view(),
        name="api-routing-rule",
    ),
    path("api/v1/incidents/", api.IncidentListCreate.as_view(), name="api-incidents"),
    path(
        "api/v1/incidents/<int:incident_id>/",
        api.IncidentDetail.as_view(),
        name="api-incident",
    ),
    path(
        "api/v1/incidents/<int:incident_id>/timeline/",
        api.IncidentTimeline.as_view(),
        name="api-incident-timeline",
    ),
    path(
        "api/v1/incidents/<int:incident_id>/<slug:action>/",
        api.IncidentAction.as_view(),
        name="api-incident-action",
    ),
]
