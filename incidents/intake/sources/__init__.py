"""Alert source registry: one pure module per sender.

Each module defines SOURCE, `validate(payload, options) -> list[str]` (field errors that
make the webhook answer 400), `parse(payload, options) -> list[AlertEvent]`, and may
define `prepare(payload) -> (payload_to_store, extra_response_fields)` for work that must
happen before the body is stored (PagerDuty's generated dedup_key). `options` is the
integration's options dict (e.g. the generic source's field mapping); a module whose
`validate` reads it sets `VALIDATE_USES_OPTIONS = True`, and its webhooks look the
integration up before validating. The others are validated first and then authenticated
and stored in one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from incidents.alerts import AlertEvent
from incidents.intake.sources import alertmanager, generic, grafana, opsgenie, pagerduty


def _no_preparation(payload: object) -> tuple[object, dict]:
    return payload, {}


@dataclass(frozen=True)
class Source:
    name: str
    validate: Callable[[object, Mapping | None], list[str]]
    parse: Callable[[object, Mapping | None], list[AlertEvent]]
    prepare: Callable[[object], tuple[object, dict]] = _no_preparation
    validate_uses_options: bool = False

    @classmethod
    def from_module(cls, module: ModuleType) -> Source:
        return cls(
            name=module.SOURCE,
            validate=module.validate,
            parse=module.parse,
            prepare=getattr(module, "prepare", _no_preparation),
            validate_uses_options=getattr(module, "VALIDATE_USES_OPTIONS", False),
        )


REGISTRY: dict[str, Source] = {
    alertmanager.SOURCE: Source.from_module(alertmanager),
    grafana.SOURCE: Source.from_module(grafana),
    pagerduty.SOURCE: Source.from_module(pagerduty),
    generic.SOURCE: Source.from_module(generic),
    opsgenie.SOURCE: Source.from_module(opsgenie),
}


def get(name: str) -> Source:
    return REGISTRY[name]
