"""Importers: read another on-call tool's REST API and write a provisioning document
(docs/provisioning.md) plus a report of what was mapped and what could not be.

One module per vendor. Each has a `fetch(client) -> dict` that reads the API (the only part
that touches the network) and a pure `to_document(raw) -> (document, Report)`; the command
`manage.py provision import` glues them together.
"""

from __future__ import annotations

from incidents.provisioning.importers import grafana_oncall, opsgenie, pagerduty
from incidents.provisioning.importers.common import Report
from incidents.provisioning.importers.http import Client

VENDORS = {
    "pagerduty": pagerduty,
    "opsgenie": opsgenie,
    "grafana-oncall": grafana_oncall,
}


def run(vendor: str, *, url: str, token: str, client: Client | None = None):
    """Read `vendor`'s API at `url`; (document, report)."""
    module = VENDORS[vendor]
    client = client or Client(url, module.auth_header(token))
    return module.to_document(module.fetch(client))


__all__ = ["VENDORS", "Client", "Report", "run"]
