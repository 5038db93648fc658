"""Random payloads for every registered source: a parser refuses with PayloadError or returns
events, never anything else, and what validate() accepts parse() turns into events."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.alerts import AlertEvent, PayloadError
from incidents.intake import sources

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,  # leave no .hypothesis directory in the tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TEXT = st.text(max_size=12)
# Text that is usually there: names, summaries, addresses.
WORD = st.sampled_from(["checkout-1", "Disk full", "https://x.example"]) | st.text(min_size=1)
# No NaN or Infinity: the webhook refuses them as JSON before any parser runs.
NUMBERS = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=12,
)
TIMES = st.sampled_from(
    [
        "2026-11-26T10:00:00Z",
        "2026-11-26T10:00:00.123456789+01:00",
        "2015-07-17T08:42:58.315+0000",
        "0001-01-01T00:00:00Z",
        "2026-02-30T10:00:00Z",
        "yesterday",
        "",
    ]
)


def payloads(noisy: bool) -> dict:
    """Per source, payloads built from the right keys. Noisy ones put any JSON value in any
    field now and then; clean ones only the right kinds of value (still often wrong ones,
    like an unknown status or an impossible date)."""

    def shaped(required=None, **optional):
        """Objects with the required keys, some of the optional ones, and a random one."""

        def value(strategy):
            return st.one_of(strategy, strategy, strategy, JSON) if noisy else strategy

        known = st.fixed_dictionaries(
            {key: value(item) for key, item in (required or {}).items()},
            optional={key: value(item) for key, item in optional.items()},
        )
        extra = st.dictionaries(TEXT, JSON, max_size=1)
        return st.tuples(extra, known).map(lambda pair: {**pair[0], **pair[1]})

    labels = st.dictionaries(
        st.sampled_from(["alertname", "severity", "instance"]) | TEXT,
        st.sampled_from(["Watchdog", "critical", "warning", "HighCPU"]) | TEXT,
        max_size=3,
    )
    alert = shaped(
        {"status": st.sampled_from(["firing", "firing", "resolved", "pending"])},
        labels=labels,
        annotations=st.dictionaries(st.sampled_from(["summary", "title"]) | TEXT, TEXT, max_size=2),
        startsAt=TIMES,
        endsAt=TIMES,
        fingerprint=st.text(max_size=250),
        generatorURL=TEXT,
        silenceURL=TEXT,
        dashboardURL=TEXT,
        panelURL=TEXT,
        imageURL=TEXT,
        valueString=TEXT,
        values=st.none() | st.dictionaries(TEXT, NUMBERS, max_size=3),
    )
    alert_group = shaped(
        {"alerts": st.lists(alert, max_size=3)},
        version=st.sampled_from(["1", "4"]),
        groupKey=TEXT,
        receiver=TEXT,
        status=st.sampled_from(["firing", "resolved"]),
        groupLabels=labels,
        truncatedAlerts=st.integers(min_value=-1, max_value=3),
        externalURL=TEXT,
        title=TEXT,
    )
    link = shaped({"href": WORD}, text=TEXT)
    pagerduty = shaped(
        {
            "event_action": st.sampled_from(
                ["trigger", "trigger", "acknowledge", "resolve", "ping"]
            ),
            "payload": shaped(
                {
                    "summary": WORD | st.sampled_from(["", " ", "s" * 1024, "s" * 1025]),
                    "source": WORD | TEXT,
                    "severity": st.sampled_from(["critical", "error", "warning", "info", "page"]),
                },
                timestamp=TIMES,
                component=TEXT,
                group=TEXT,
                custom_details=JSON,
                **{"class": TEXT},
            ),
        },
        routing_key=TEXT,
        dedup_key=WORD | st.sampled_from(["", "k" * 255, "k" * 256]),
        links=st.lists(link, max_size=2),
        images=st.lists(shaped({"src": WORD}, href=TEXT, alt=TEXT), max_size=2),
        client=TEXT,
        client_url=TEXT,
    )
    status = st.sampled_from(["firing", "resolved", "ok", "alerting", "RESOLVED", "pending"])
    generic_fields = {
        "dedup_key": WORD | TEXT | st.integers(),
        "status": status,
        "severity": st.sampled_from(["critical", "P1", "low"]) | TEXT,
        "source": TEXT,
        "started_at": TIMES | NUMBERS,
        "details": st.dictionaries(TEXT, JSON, max_size=3),
        "links": st.lists(link, max_size=2),
    }
    # The default shape and, next to it, the one the mapping in GENERIC_OPTIONS reads.
    generic = shaped(
        {"title": WORD | st.integers()},
        data=shaped({"name": WORD}, state=status),
        items=st.lists(shaped(id=WORD | st.integers()) | JSON, max_size=2),
        **generic_fields,
    )
    # The envelope the Opsgenie API view stores around a sender's body.
    opsgenie_alert = shaped(
        message=WORD | st.sampled_from(["", " "]),
        alias=WORD | st.sampled_from(["", "a" * 512, "a" * 513]),
        priority=st.sampled_from(["P1", "P3", "P5", "P0", "high"]),
        tags=st.lists(TEXT, max_size=3),
        details=st.dictionaries(TEXT, JSON, max_size=3),
        description=TEXT,
        entity=TEXT,
        source=TEXT,
        user=TEXT,
        note=WORD | st.sampled_from(["", " "]),
        responders=JSON,
    )
    opsgenie = shaped(
        {
            "action": st.sampled_from(["create", "create", "close", "acknowledge", "note", "x"]),
            "alert": opsgenie_alert,
        },
        requestId=st.uuids().map(str),
        identifier=WORD | st.sampled_from(["", " "]),
        identifierType=st.sampled_from(["id", "alias"]),
    )
    return {
        "alertmanager": alert_group,
        "grafana": alert_group,
        "pagerduty": pagerduty,
        "generic": generic,
        "opsgenie": opsgenie,
    }


CLEAN, NOISY = payloads(noisy=False), payloads(noisy=True)
GENERIC_OPTIONS = st.one_of(
    st.none(),
    st.just(
        {
            "mapping": {"title": "data.name", "status": "data.state", "dedup_key": "items.0.id"},
            "status_map": {"ok": "resolved", "alerting": "firing"},
        }
    ),
    st.dictionaries(st.sampled_from(["mapping", "status_map"]) | TEXT, JSON, max_size=2),
)
OPTIONS = {"generic": GENERIC_OPTIONS}


def payload_strategy(name: str):
    if name not in CLEAN:
        return JSON  # a source added without its own strategy still gets random JSON
    return CLEAN[name] | NOISY[name]


# Found by this test in code owned elsewhere; remove the entry once it is fixed.
# Parsers with a known fuzz failure, by name, with the reason (none at the moment).
KNOWN_BUGS: dict[str, str] = {}


def _params():
    for name in sorted(sources.REGISTRY):
        marks = [pytest.mark.xfail(reason=KNOWN_BUGS[name])] if name in KNOWN_BUGS else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_params()))
@SETTINGS
@given(data=st.data())
def test_it_refuses_or_parses_any_payload(name, data):
    source = sources.get(name)
    payload = data.draw(payload_strategy(name), label="payload")
    options = data.draw(OPTIONS.get(name, st.none()), label="options")
    errors = source.validate(payload, options)
    assert isinstance(errors, list)
    assert all(isinstance(error, str) and error for error in errors)
    try:
        events = source.parse(payload, options)
    except PayloadError:
        assert errors, "validate() accepted a payload that parse() refused"
        return
    assert not errors, "parse() accepted a payload that validate() refused"
    _assert_storable(events)
    # The webhook stores the prepared payload; processing parses that.
    prepared, extra = source.prepare(payload)
    assert source.validate(prepared, options) == []
    _assert_storable(source.parse(prepared, options))
    assert isinstance(extra, dict)


def _assert_storable(events: list) -> None:
    """Every event fits the columns it is written to, on PostgreSQL too."""
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, AlertEvent)
        assert len(event.fingerprint) <= 200
        assert len(event.incident_key) <= 1000
        assert 0 < len(event.title) <= 1000
        texts = [event.fingerprint, event.incident_key, event.title]
        texts += [*event.labels, *event.labels.values(), *event.annotations]
        texts += [*event.annotations.values()]
        texts += [part for link in event.links for part in (link.href, link.text)]
        assert all(isinstance(text, str) and "\x00" not in text for text in texts)
