"""What a manager pastes into the sender once an integration exists: its webhook URL in
the sender's own configuration (Alertmanager receiver YAML, Grafana contact point, the
PagerDuty Events v2 routing key, a curl line). Pure: plain values in and out; tested by
parsing each snippet back (incidents/tests/catalog/test_snippets.py)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from datetime import datetime

from incidents.catalog import sample_alerts


@dataclass(frozen=True)
class Snippet:
    title: str
    text: str
    hint: str = ""


def webhook_url(base_url: str, source: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/hooks/{source}/{token}"


def events_v2_url(base_url: str) -> str:
    """PagerDuty's own path: its clients need only their base URL changed."""
    return f"{base_url.rstrip('/')}/v2/enqueue"


def opsgenie_api_url(base_url: str) -> str:
    """Opsgenie's create-alert path: its clients need their base URL and key changed."""
    return f"{base_url.rstrip('/')}/v2/alerts"


def _quoted(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar: safe whatever the URL holds.
    return json.dumps(text)


def snippets_for(
    *, source: str, base_url: str, token: str, name: str, options=None, at: datetime
) -> list[Snippet]:
    url = webhook_url(base_url, source, token)
    receiver = f"pagerline-{_slugish(name)}"
    if source == "alertmanager":
        text = (
            "# alertmanager.yml: add the receiver, then name it in a route\n"
            "receivers:\n"
            f"  - name: {_quoted(receiver)}\n"
            "    webhook_configs:\n"
            f"      - url: {_quoted(url)}\n"
            "        send_resolved: true\n"
        )
        return [
            Snippet(
                "Alertmanager receiver",
                text,
                f"Then route alerts to it, e.g. route: {{receiver: {receiver}}}, and reload "
                "Alertmanager. send_resolved lets Pagerline resolve incidents.",
            )
        ]
    if source == "grafana":
        settings = (
            "Integration: Webhook\n"
            f"URL: {url}\n"
            "HTTP Method: POST\n"
            "Disable resolved message: off (leave unticked)\n"
        )
        provisioning = (
            "# Grafana provisioning (provisioning/alerting/pagerline.yaml)\n"
            "apiVersion: 1\n"
            "contactPoints:\n"
            "  - orgId: 1\n"
            f"    name: {_quoted(receiver)}\n"
            "    receivers:\n"
            f"      - uid: {_quoted(receiver)}\n"
            "        type: webhook\n"
            "        settings:\n"
            f"          url: {_quoted(url)}\n"
            "          httpMethod: POST\n"
            "        disableResolveMessage: false\n"
        )
        return [
            Snippet(
                "Grafana contact point",
                settings,
                "Alerting → Contact points → Add contact point, with these settings; then "
                "use it in a notification policy.",
            ),
            Snippet("Or provision it from a file", provisioning),
        ]
    if source == "pagerduty":
        body = sample_alerts.alert_body(
            "pagerduty", title="Example alert", key="example-1", at=at, test=False
        )
        event = {"routing_key": token, **body}
        curl = _curl(events_v2_url(base_url), event)
        return [
            Snippet(
                "PagerDuty Events v2",
                f"Integration key (routing_key): {token}\nEvents API v2 URL: "
                f"{events_v2_url(base_url)}\n",
                "Point the sender's PagerDuty events URL at Pagerline and use the routing key "
                f"as its integration key. The URL {url} also takes events, without a "
                "routing_key in the body.",
            ),
            Snippet("Try it with curl", curl),
        ]
    if source == "opsgenie":
        alert = sample_alerts.alert_body("opsgenie", title="Example alert", key="example-1", at=at)
        curl = (
            "curl -X POST -H 'Content-Type: application/json' "
            f"-H {shlex.quote('Authorization: GenieKey ' + token)} "
            f"-d {shlex.quote(json.dumps(alert['alert']))} "
            f"{shlex.quote(opsgenie_api_url(base_url))}"
        )
        return [
            Snippet(
                "Opsgenie Alert API",
                f"API URL: {base_url.rstrip('/')}/\nAPI key (GenieKey): {token}\n",
                "Point the sender's Opsgenie API URL at Pagerline (Alertmanager: "
                "opsgenie_configs api_url) and use this key as its API key. The alias is the "
                "dedup key; close it with POST /v2/alerts/<alias>/close?identifierType=alias.",
            ),
            Snippet("Try it with curl", curl),
        ]
    if source == "generic":
        body = sample_alerts.alert_body(
            "generic", title="Example alert", key="example-1", at=at, options=options, test=False
        )
        return [
            Snippet(
                "curl",
                _curl(url, body),
                "Any sender that can POST JSON: one alert per request; send the same "
                "dedup_key with status resolved to resolve it.",
            )
        ]
    raise ValueError(f"no snippet for source {source!r}")


def _curl(url: str, body: dict) -> str:
    return (
        "curl -X POST -H 'Content-Type: application/json' "
        f"-d {shlex.quote(json.dumps(body))} {shlex.quote(url)}"
    )


def _slugish(name: str) -> str:
    kept = "".join(c if c.isalnum() else "-" for c in name.lower())
    return "-".join(part for part in kept.split("-") if part)[:40] or "alerts"
