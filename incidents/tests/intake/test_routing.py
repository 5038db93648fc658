import pytest

from incidents.intake.routing import matches, route, validate_matchers

LABELS = {"alertname": "HighLatency", "service": "checkout", "env": "prod"}


@pytest.mark.parametrize(
    ("matcher", "expected"),
    [
        ({"label": "service", "op": "=", "value": "checkout"}, True),
        ({"label": "service", "op": "=", "value": "payments"}, False),
        ({"label": "service", "op": "!=", "value": "payments"}, True),
        ({"label": "service", "op": "=~", "value": "check.*"}, True),
        ({"label": "service", "op": "=~", "value": "check"}, False),  # anchored, like Alertmanager
        ({"label": "env", "op": "!~", "value": "stag.*|dev"}, True),
        ({"label": "team", "op": "=", "value": ""}, True),  # a missing label is ""
        ({"label": "team", "value": "x"}, False),  # op defaults to "="
    ],
)
def test_it_matches_like_alertmanager(matcher, expected):
    assert matches([matcher], LABELS) is expected


def test_every_matcher_of_a_rule_must_hold():
    rule = [{"label": "service", "value": "checkout"}, {"label": "env", "value": "staging"}]
    assert not matches(rule, LABELS)


def test_the_first_matching_rule_wins_and_none_means_default():
    rules = [
        ([{"label": "service", "value": "payments"}], 1),
        ([{"label": "service", "op": "=~", "value": "check.*"}], 2),
        ([{"label": "env", "value": "prod"}], 3),
    ]
    assert route(rules, LABELS) == 2
    assert route(rules, {"service": "search"}) is None


@pytest.mark.parametrize(
    ("matchers", "error"),
    [
        ([], "matchers: expected a non-empty list"),
        ([{"label": "", "value": "x"}], "matchers[0].label"),
        ([{"label": "a", "op": "~", "value": "x"}], "matchers[0].op"),
        ([{"label": "a", "value": 3}], "matchers[0].value"),
        ([{"label": "a", "op": "=~", "value": "("}], "matchers[0].value: invalid regular"),
        ([{"label": "", "op": {}, "value": ""}], "matchers[0].op"),
        ([{"label": "a", "op": ["="], "value": "x"}], "matchers[0].op"),
        ([{"label": ["a"], "value": "x"}], "matchers[0].label"),
        ([{"label": "a", "value": {"x": 1}}], "matchers[0].value"),
        ([{"label": "a", "op": "=~", "value": "a{99999999999}"}], "matchers[0].value: invalid"),
        ([{"label": "a", "op": "!~", "value": "(" * 2000 + ")" * 2000}], "matchers[0].value"),
    ],
)
def test_it_names_bad_matchers(matchers, error):
    assert any(e.startswith(error) for e in validate_matchers(matchers))


def test_it_refuses_a_nul_character_anywhere_in_a_matcher():
    for matcher in (
        {"label": "env\x00", "value": "prod"},
        {"label": "env", "value": "\x00"},
        {"label": "env", "value": "prod", "note": ["\x00"]},
    ):
        assert validate_matchers([matcher]) == ["matchers[0]: a NUL character is not allowed"]
