"""Configuration writes for managers: services, integrations, routing rules. Each change is
validated here (one rule for the API, the admin and commands) and audited."""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime

from django.conf import settings
from django.db import (
    transaction,
)
from django.utils import timezone

from core.audit import audit_record, diff
from core.errors import FieldErrors
from core.text import NUL_MESSAGE, has_nul
from incidents.alerts import Severity
from incidents.catalog import sample_alerts, snippets
from incidents.intake import routing, sources, store
from incidents.models import (
    Integration,
    RoutingRule,
    Service,
    hash_token,
)
from incidents.notify.address import slack_channel_problem


def _snapshot(obj, fields) -> dict:
    return {field: getattr(obj, field) for field in fields}


# --- services ---------------------------------------------------------------------------------

SERVICE_FIELDS = (
    "name",
    "description",
    "escalation_policy_id",
    "high_urgency_severities",
    "slack_channel",
)


def high_urgency_checked(value) -> list[str]:
    """A service's high-urgency severities: known severities, each once, most severe
    first. Empty is allowed (every incident of the service then pages with low urgency)."""
    known = [severity.value for severity in Severity]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FieldErrors({"high_urgency_severities": "Expected a list of severities."})
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise FieldErrors(
            {
                "high_urgency_severities": f"Unknown severities {', '.join(map(repr, unknown))}; "
                f"expected some of {', '.join(known)}."
            }
        )
    return [severity for severity in known if severity in value]


# What Django's SlugField accepts (the API's serializers take the same), at most 50 long.
_SERVICE_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
SERVICE_SLUG_MAX = 50


def _text_errors(fields: dict) -> dict:
    errors: dict[str, str] = {}
    if "name" in fields:
        name = fields["name"]
        if not isinstance(name, str) or not name.strip():
            errors["name"] = "A service needs a name."
        elif len(name.strip()) > 200:
            errors["name"] = "At most 200 characters."
        elif has_nul(name):
            errors["name"] = NUL_MESSAGE
    if "description" in fields and has_nul(fields["description"]):
        errors["description"] = NUL_MESSAGE
    return errors


def _settings_checked(*, team_id: int, fields: dict) -> dict:
    """The service fields as stored, or FieldErrors naming every refused one: the one set of
    rules for a new service and an edited one."""
    unknown = set(fields) - set(SERVICE_FIELDS)
    if unknown:
        raise FieldErrors({name: "cannot be changed" for name in sorted(unknown)})
    errors = _text_errors(fields)
    checked = dict(fields)
    if "name" in checked and "name" not in errors:
        checked["name"] = checked["name"].strip()
    problem = slack_channel_problem(fields.get("slack_channel", ""))
    if problem:
        errors["slack_channel"] = problem
    if "high_urgency_severities" in fields:
        try:
            checked["high_urgency_severities"] = high_urgency_checked(
                fields["high_urgency_severities"]
            )
        except FieldErrors as exc:
            errors.update(exc.errors)
    policy_id = fields.get("escalation_policy_id")
    if policy_id is not None:
        from incidents.models import EscalationPolicy

        # Locked, so the policy cannot be deleted while it is being assigned
        # (policies.policy_delete locks it too before checking who uses it).
        assigned = (
            EscalationPolicy.objects.select_for_update()
            .filter(pk=policy_id, team_id=team_id)
            .order_by()
            .values_list("pk", flat=True)
        )
        if not list(assigned):
            errors["escalation_policy"] = "no such policy in the service's team"
    if errors:
        raise FieldErrors(errors)
    return checked


@transaction.atomic
def service_create(
    *, actor, team, slug: str, name: str, description: str = "", **fields
) -> Service:
    """A new service of ``team``. ``fields`` are any other of SERVICE_FIELDS (high-urgency
    severities, Slack channel, escalation policy), checked as service_update checks them."""
    errors = {}
    if not isinstance(slug, str) or not slug:
        errors["slug"] = "A service needs a slug (it names the service in URLs and the API)."
    elif len(slug) > SERVICE_SLUG_MAX or not _SERVICE_SLUG.fullmatch(slug):
        errors["slug"] = (
            f"Use at most {SERVICE_SLUG_MAX} letters, digits, hyphens and underscores "
            "(e.g. checkout-api)."
        )
    elif Service.objects.filter(slug=slug).exists():
        errors["slug"] = f"a service with slug {slug!r} already exists"
    try:
        checked = _settings_checked(
            team_id=team.pk, fields={"name": name, "description": description, **fields}
        )
    except FieldErrors as exc:
        errors.update(exc.errors)
    if errors:
        raise FieldErrors(errors)
    service = Service.objects.create(team=team, slug=slug, **checked)
    audit_record(
        actor=actor,
        action="service.created",
        obj=service,
        team_id=team.pk,
        summary=f"service {service.name!r} created",
        changes={
            key: value for key, value in checked.items() if key not in {"name", "description"}
        },
    )
    return service


@transaction.atomic
def service_update(*, actor, service: Service, **fields) -> Service:
    fields = _settings_checked(team_id=service.team_id, fields=fields)
    before = _snapshot(service, fields)
    for name, value in fields.items():
        setattr(service, name, value)
    service.save(update_fields=list(fields))
    changes = diff(before, _snapshot(service, fields))
    if changes:
        audit_record(
            actor=actor,
            action="service.updated",
            obj=service,
            team_id=service.team_id,
            summary=f"service {service.name!r} updated",
            changes=changes,
        )
    return service


def service_delete(*, actor, service: Service) -> None:
    """Delete a service that never had an incident (its incidents are history: a service
    that has some is kept; the database protects them too)."""
    with transaction.atomic():
        count = service.incidents.count()
        if count:
            raise FieldErrors(
                {"service": f"{service.name} has {count} incident(s); it cannot be deleted."}
            )
        audit_record(
            actor=actor,
            action="service.deleted",
            obj=service,
            team_id=service.team_id,
            summary=f"service {service.name!r} deleted",
        )
        service.delete()


# --- integrations -----------------------------------------------------------------------------

INTEGRATION_FIELDS = (
    "name",
    "enabled",
    "reopen_window_seconds",
    "heartbeat_interval_seconds",
    "options",
)


@transaction.atomic
def integration_add(
    *, actor, service: Service, source: str, name: str = ""
) -> tuple[Integration, str]:
    if source not in sources.REGISTRY:
        raise FieldErrors({"source": f"must be one of {', '.join(sorted(sources.REGISTRY))}"})
    integration, token = integration_create(service=service, source=source, name=name)
    audit_record(
        actor=actor,
        action="integration.created",
        obj=integration,
        team_id=service.team_id,
        summary=f"integration {integration.name!r} ({source}) created on {service.name}",
    )
    return integration, token


@transaction.atomic
def integration_update(*, actor, integration: Integration, **fields) -> Integration:
    errors = {name: "cannot be changed" for name in sorted(set(fields) - set(INTEGRATION_FIELDS))}
    if "options" in fields and not isinstance(fields["options"], dict):
        errors["options"] = "expected an object"
    elif has_nul(fields.get("options")):  # jsonb cannot store it
        errors["options"] = NUL_MESSAGE
    interval = fields.get("heartbeat_interval_seconds")
    if interval is not None and (not isinstance(interval, int) or interval < 60):
        errors["heartbeat_interval_seconds"] = "expected at least 60 seconds, or null"
    window = fields.get("reopen_window_seconds")
    if window is not None and (not isinstance(window, int) or not 0 <= window <= 7 * 86400):
        errors["reopen_window_seconds"] = "expected 0 to 604800 seconds"
    if errors:
        raise FieldErrors(errors)
    before = _snapshot(integration, fields)
    for name, value in fields.items():
        setattr(integration, name, value)
    integration.save(update_fields=list(fields))
    changes = diff(before, _snapshot(integration, fields))
    if changes:
        audit_record(
            actor=actor,
            action="integration.updated",
            obj=integration,
            team_id=integration.service.team_id,
            summary=f"integration {integration.name!r} updated",
            changes=changes,
        )
    return integration


@transaction.atomic
def integration_rotate(*, actor, integration: Integration) -> str:
    """A new token (returned once); the old webhook URL stops working at once."""
    token = _token_mint(integration)
    integration.save(update_fields=["token_hash", "token_prefix"])
    audit_record(
        actor=actor,
        action="integration.token_rotated",
        obj=integration,
        team_id=integration.service.team_id,
        summary=f"integration {integration.name!r}: token rotated",
    )
    return token


@transaction.atomic
def integration_send_test(*, actor, integration: Integration, at: datetime | None = None) -> int:
    """Store a test alert as if the sender had posted it, and return the delivery's id.

    It takes the webhook's path from there on (the worker parses it with the source's
    parser and applies it), so it opens an incident, or joins the open one of an earlier
    test: each integration's test alerts share one dedup key. The title says [TEST]."""
    if not integration.enabled:
        raise FieldErrors({"enabled": "the integration is disabled; enable it first"})
    at = at or timezone.now()
    sender = actor.get_username() if actor is not None else "Pagerline"
    payload = sample_alerts.alert_body(
        integration.source,
        title=sample_alerts.test_title(sender),
        key=sample_alerts.test_key(integration.pk),
        at=at,
        options=integration.options,
    )
    kind = sources.get(integration.source)
    errors = kind.validate(payload, integration.options)
    if errors:
        # Only an integration's own options (a generic mapping) can make our body invalid.
        raise FieldErrors({"options": errors})
    prepared, _ = kind.prepare(payload)
    delivery_id = store.delivery_accept(
        integration=integration, body=json.dumps(prepared), received_at=at
    )
    audit_record(
        actor=actor,
        action="integration.test_sent",
        obj=integration,
        team_id=integration.service.team_id,
        summary=f"integration {integration.name!r}: test alert sent (delivery {delivery_id})",
    )
    return delivery_id


@transaction.atomic
def integration_delete(*, actor, integration: Integration) -> None:
    audit_record(
        actor=actor,
        action="integration.deleted",
        obj=integration,
        team_id=integration.service.team_id,
        summary=f"integration {integration.name!r} deleted",
    )
    integration.delete()


# --- routing rules ----------------------------------------------------------------------------


@transaction.atomic
def routing_rule_create(
    *, actor, integration: Integration, matchers: object, service: Service, position: int = 0
) -> RoutingRule:
    errors = {}
    problems = routing.validate_matchers(matchers)
    if problems:
        errors["matchers"] = "; ".join(problems)
    if service.team_id != integration.service.team_id:
        errors["service"] = "must belong to the integration's team"
    if errors:
        raise FieldErrors(errors)
    rule = RoutingRule.objects.create(
        integration=integration, matchers=matchers, service=service, position=position
    )
    audit_record(
        actor=actor,
        action="routing_rule.created",
        obj=rule,
        team_id=service.team_id,
        summary=f"routing rule on {integration.name!r} -> {service.name}",
        changes={"matchers": matchers, "position": position},
    )
    return rule


@transaction.atomic
def routing_rule_delete(*, actor, rule: RoutingRule) -> None:
    audit_record(
        actor=actor,
        action="routing_rule.deleted",
        obj=rule,
        team_id=rule.integration.service.team_id,
        summary=f"routing rule on {rule.integration.name!r} -> {rule.service.name} deleted",
        changes={"matchers": rule.matchers},
    )
    rule.delete()


# --- integrations ---------------------------------------------------------------------------


def integration_create(*, service: Service, source: str, name: str = "") -> tuple[Integration, str]:
    """Create an integration; the plain token is returned once and only its hash is kept."""
    if source not in sources.REGISTRY:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(sorted(sources.REGISTRY))}")
    integration = Integration(
        service=service,
        source=source,
        name=name or f"{sources.REGISTRY[source].name} for {service.name}",
    )
    token = _token_mint(integration)
    integration.save()
    return integration, token


def integration_set_token(*, integration: Integration, token: str) -> None:
    """Give the integration a known token (the demo's fixed webhook URLs)."""
    _token_mint(integration, token)
    integration.save(update_fields=["token_hash", "token_prefix"])


def _token_mint(integration: Integration, token: str | None = None) -> str:
    """The one place an integration's token is made: only its hash (and a prefix to
    recognise it by) is kept; the plain token is returned once."""
    token = token or secrets.token_urlsafe(32)
    integration.token_hash = hash_token(token)
    integration.token_prefix = token[:6]
    return token


def webhook_url(*, integration: Integration, token: str) -> str:
    if integration.source == "opsgenie":
        # Opsgenie's API: the token travels as `Authorization: GenieKey`, not in the URL.
        return snippets.opsgenie_api_url(settings.PAGERLINE_BASE_URL)
    return snippets.webhook_url(settings.PAGERLINE_BASE_URL, integration.source, token)


def integration_snippets(*, integration: Integration, token: str) -> list[snippets.Snippet]:
    """What to paste into the sender, shown with the token right after creation or rotation."""
    return snippets.snippets_for(
        source=integration.source,
        base_url=settings.PAGERLINE_BASE_URL,
        token=token,
        name=integration.service.slug,
        options=integration.options,
        at=timezone.now(),
    )
