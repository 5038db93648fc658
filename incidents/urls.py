from django.urls import path

from incidents.catalog import api as catalog_api
from incidents.catalog import heartbeat_api, integration_views, views_services
from incidents.catalog import views as catalog_views
from incidents.escalation import api as escalation_api
from incidents.escalation import views as escalation_views
from incidents.intake import opsgenie_api, views
from incidents.maintenance import api as maintenance_api
from incidents.maintenance import views as maintenance_views
from incidents.notify import api as notify_api
from incidents.notify import link_view
from incidents.notify import views as notify_views
from incidents.notify.phone import views as phone_views
from incidents.notify.slack import views as slack_views
from incidents.provisioning import api as provisioning_api
from incidents.timeline import api
from incidents.timeline import views as timeline_views
from oncall import audit

# Escalation policies (members read, managers change) and the user's own contact methods.
_policy_urls = [
    path("escalation-policies/", escalation_views.policy_list, name="escalation-policy-list"),
    path("escalation-policies/new", escalation_views.policy_new, name="escalation-policy-new"),
    path(
        "escalation-policies/<int:policy_id>/",
        escalation_views.policy_detail,
        name="escalation-policy-detail",
    ),
    path(
        "escalation-policies/<int:policy_id>/edit",
        escalation_views.policy_edit,
        name="escalation-policy-edit",
    ),
    path(
        "escalation-policies/<int:policy_id>/delete",
        escalation_views.policy_delete,
        name="escalation-policy-delete",
    ),
    path(
        "escalation-policies/<int:policy_id>/services",
        catalog_views.policy_services,
        name="escalation-policy-services",
    ),
    path(
        "api/v1/escalation-policies/",
        escalation_api.EscalationPolicyList.as_view(),
        name="api-escalation-policies",
    ),
    path(
        "api/v1/escalation-policies/<int:policy_id>/",
        escalation_api.EscalationPolicyDetail.as_view(),
        name="api-escalation-policy",
    ),
    path("account/contact-methods/", notify_views.contact_methods, name="contact-methods"),
    path(
        "account/contact-methods/<int:method_id>/update",
        notify_views.contact_method_update,
        name="contact-method-update",
    ),
    path(
        "account/contact-methods/<int:method_id>/test",
        notify_views.contact_method_test,
        name="contact-method-test",
    ),
    path(
        "account/contact-methods/<int:method_id>/verify",
        notify_views.contact_method_verify,
        name="contact-method-verify",
    ),
    path(
        "account/contact-methods/<int:method_id>/send-code",
        notify_views.contact_method_send_code,
        name="contact-method-send-code",
    ),
    path(
        "account/contact-methods/<int:method_id>/delete",
        notify_views.contact_method_delete,
        name="contact-method-delete",
    ),
    path("account/time-zone", notify_views.time_zone, name="account-time-zone"),
    path(
        "api/v1/contact-methods/",
        notify_api.ContactMethodList.as_view(),
        name="api-contact-methods",
    ),
    path(
        "api/v1/contact-methods/<int:method_id>/",
        notify_api.ContactMethodDetail.as_view(),
        name="api-contact-method",
    ),
    path(
        "api/v1/contact-methods/<int:method_id>/test/",
        notify_api.ContactMethodTest.as_view(),
        name="api-contact-method-test",
    ),
    path(
        "api/v1/contact-methods/<int:method_id>/verify/",
        notify_api.ContactMethodVerify.as_view(),
        name="api-contact-method-verify",
    ),
    path(
        "api/v1/contact-methods/<int:method_id>/send-code/",
        notify_api.ContactMethodSendCode.as_view(),
        name="api-contact-method-send-code",
    ),
    path(
        "account/notification-rules/",
        notify_views.notification_rules,
        name="notification-rules",
    ),
    path(
        "account/notification-rules/<int:notification_rule_id>/delete",
        notify_views.notification_rule_delete,
        name="notification-rule-delete",
    ),
    path("account/test-page", notify_views.test_page, name="test-page"),
    path(
        "api/v1/notification-rules/",
        notify_api.NotificationRuleList.as_view(),
        name="api-notification-rules",
    ),
    path(
        "api/v1/notification-rules/<int:notification_rule_id>/",
        notify_api.NotificationRuleDetail.as_view(),
        name="api-notification-rule",
    ),
    path("api/v1/test-page/", notify_api.TestPage.as_view(), name="api-test-page"),
    path("a/<str:token>/", link_view.action_link, name="action-link"),
]

# Twilio's requests (signed with X-Twilio-Signature), before the alert webhooks' patterns,
# which would take /hooks/twilio/<anything> for an alert source's token.
_twilio_urls = [
    path("hooks/twilio/sms", phone_views.sms_inbound, name="twilio-sms"),
    path("hooks/twilio/voice", phone_views.callback_answered, name="twilio-callback"),
    path("hooks/twilio/voice/keys", phone_views.callback_keys, name="twilio-callback-keys"),
    path("hooks/twilio/calls/<int:notification_id>", phone_views.call_answered, name="twilio-call"),
    path(
        "hooks/twilio/calls/<int:notification_id>/keys",
        phone_views.call_keys,
        name="twilio-call-keys",
    ),
    path("hooks/twilio/status", phone_views.status_callback, name="twilio-status"),
]

# Alert webhooks: config/urls.py lists them first, so the busiest path resolves fastest.
hook_urlpatterns = [
    *_twilio_urls,
    path("hooks/heartbeat/<str:token>", views.heartbeat, name="heartbeat"),
    path("hooks/slack/interactions", slack_views.interactions_hook, name="slack-interactions"),
    path("hooks/<slug:source>/<str:token>", views.alert_webhook, name="alert-webhook"),
    path("hooks/<slug:source>", views.alert_webhook, name="alert-webhook-bearer"),
    # PagerDuty's own path, so its client libraries work with only the base URL changed;
    # some clients are configured with a trailing slash.
    path("v2/enqueue", views.pagerduty_enqueue, name="pagerduty-enqueue"),
    path("v2/enqueue/", views.pagerduty_enqueue),
    # Opsgenie's Alert and Heartbeat API (incidents.intake.opsgenie_api), GenieKey auth.
    path("v2/alerts", opsgenie_api.create_view, name="opsgenie-alerts"),
    path(
        "v2/alerts/requests/<str:request_id>",
        opsgenie_api.request_status_view,
        name="opsgenie-request-status",
    ),
    path(
        "v2/alerts/<str:identifier>/close",
        opsgenie_api.action_view,
        {"action": "close"},
        name="opsgenie-alert-close",
    ),
    path(
        "v2/alerts/<str:identifier>/acknowledge",
        opsgenie_api.action_view,
        {"action": "acknowledge"},
        name="opsgenie-alert-acknowledge",
    ),
    path(
        "v2/alerts/<str:identifier>/notes",
        opsgenie_api.action_view,
        {"action": "note"},
        name="opsgenie-alert-note",
    ),
    path("v2/heartbeats", opsgenie_api.heartbeat_create_view, name="opsgenie-heartbeats"),
    path(
        "v2/heartbeats/<str:name>/ping",
        opsgenie_api.heartbeat_ping_view,
        name="opsgenie-heartbeat-ping",
    ),
]

# A service's integrations (members read, managers change); only under
# /services/<slug>/integrations/ (the service's own pages are elsewhere).
_integration_urls = [
    path(
        "services/<slug:slug>/integrations/",
        integration_views.integration_list,
        name="integration-list",
    ),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/",
        integration_views.integration_detail,
        name="integration-detail",
    ),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/rotate",
        integration_views.integration_rotate,
        name="integration-rotate",
    ),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/test",
        integration_views.integration_test,
        name="integration-test",
    ),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/routing-rules",
        integration_views.routing_rule_add,
        name="integration-routing-rule-add",
    ),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/heartbeats",
        integration_views.named_heartbeat_add,
        name="integration-heartbeat-add",
    ),
    # A named heartbeat is found by its id among the service's integrations' heartbeats.
    path(
        "services/<slug:slug>/integrations/heartbeats/<int:heartbeat_id>/",
        integration_views.named_heartbeat_edit,
        name="integration-heartbeat-edit",
    ),
    path(
        "services/<slug:slug>/integrations/heartbeats/<int:heartbeat_id>/delete",
        integration_views.named_heartbeat_remove,
        name="integration-heartbeat-delete",
    ),
    path(
        "services/<slug:slug>/integrations/<int:integration_id>/routing-rules/<int:rule_id>/delete",
        integration_views.routing_rule_remove,
        name="integration-routing-rule-delete",
    ),
]

# Service pages: members list them, managers create and configure them. A service's figures
# are the metrics page at services/<slug>/, so its settings live one level below.
_service_urls = [
    path("services/", views_services.service_list, name="service-list"),
    path("services/new", views_services.service_new, name="service-new"),
    path(
        "services/<slug:slug>/settings",
        views_services.service_settings,
        name="service-settings",
    ),
]

# Configuration as code (docs/provisioning.md): the document's changes, planned or made.
_provisioning_urls = [
    path(
        "api/v1/provisioning/plan",
        provisioning_api.ProvisioningPlan.as_view(),
        name="api-provisioning-plan",
    ),
    path(
        "api/v1/provisioning/apply",
        provisioning_api.ProvisioningApply.as_view(),
        name="api-provisioning-apply",
    ),
]

urlpatterns = [
    *_policy_urls,
    *_provisioning_urls,
    *_integration_urls,
    *_service_urls,
    path("maintenance/", maintenance_views.maintenance_list, name="maintenance-list"),
    path(
        "maintenance/<int:window_id>/end", maintenance_views.maintenance_end, name="maintenance-end"
    ),
    path("notifications/breakers/", notify_views.circuit_breakers, name="circuit-breakers"),
    path(
        "api/v1/maintenance-windows/",
        maintenance_api.MaintenanceWindowList.as_view(),
        name="api-maintenance-windows",
    ),
    path(
        "api/v1/maintenance-windows/<int:window_id>/",
        maintenance_api.MaintenanceWindowDetail.as_view(),
        name="api-maintenance-window",
    ),
    path(
        "api/v1/maintenance-windows/<int:window_id>/end",
        maintenance_api.MaintenanceWindowEnd.as_view(),
        name="api-maintenance-window-end",
    ),
    path("incidents/feed.json", timeline_views.incidents_feed, name="incidents-feed"),
    path("deliveries/failed/", views.failed_deliveries, name="failed-deliveries"),
    path(
        "deliveries/<int:delivery_id>/retry",
        views.delivery_retry,
        name="delivery-retry",
    ),
    path(
        "deliveries/<int:delivery_id>/dismiss",
        views.delivery_dismiss,
        name="delivery-dismiss",
    ),
    path("incidents/", timeline_views.incident_list, name="incident-list"),
    path("incidents/new", timeline_views.incident_new, name="incident-new"),
    path("incidents/<int:incident_id>/", timeline_views.incident_detail, name="incident-detail"),
    path(
        "incidents/<int:incident_id>/state.json",
        timeline_views.incident_state,
        name="incident-state",
    ),
    path(
        "incidents/<int:incident_id>/<slug:action>",
        timeline_views.incident_action,
        name="incident-action",
    ),
    path("audit/", audit.audit_log, name="audit-log"),
    path("api/v1/audit/", audit.AuditList.as_view(), name="api-audit"),
    path("api/v1/services/", catalog_api.ServiceList.as_view(), name="api-services"),
    path("api/v1/services/<slug:slug>/", catalog_api.ServiceDetail.as_view(), name="api-service"),
    path("api/v1/integrations/", catalog_api.IntegrationList.as_view(), name="api-integrations"),
    path(
        "api/v1/integrations/<int:integration_id>/",
        catalog_api.IntegrationDetail.as_view(),
        name="api-integration",
    ),
    path(
        "api/v1/integrations/<int:integration_id>/rotate/",
        catalog_api.IntegrationRotate.as_view(),
        name="api-integration-rotate",
    ),
    path(
        "api/v1/integrations/<int:integration_id>/test/",
        catalog_api.IntegrationTest.as_view(),
        name="api-integration-test",
    ),
    path(
        "api/v1/integrations/<int:integration_id>/deliveries/",
        catalog_api.IntegrationDeliveries.as_view(),
        name="api-integration-deliveries",
    ),
    path(
        "api/v1/integrations/<int:integration_id>/routing-rules/",
        catalog_api.RoutingRuleList.as_view(),
        name="api-routing-rules",
    ),
    path(
        "api/v1/integrations/<int:integration_id>/routing-rules/<int:rule_id>/",
        catalog_api.RoutingRuleDetail.as_view(),
        name="api-routing-rule",
    ),
    path("api/v1/heartbeats/", heartbeat_api.HeartbeatList.as_view(), name="api-heartbeats"),
    path(
        "api/v1/heartbeats/<int:heartbeat_id>/",
        heartbeat_api.HeartbeatDetail.as_view(),
        name="api-heartbeat",
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
