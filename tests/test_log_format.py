"""PAGERLINE_LOG_FORMAT=json: one JSON object per log line, carrying the request's id
(X-Request-ID) or the Celery task's."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env
from config.logformat import JsonFormatter, RequestIdFilter


@pytest.fixture
def json_lines():
    """What the json format writes for django.request and the `pagerline.test` logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger("django.request"), logging.getLogger("pagerline.test")]
    for logger in loggers:
        logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for logger in loggers:
        logger.removeHandler(handler)


def test_the_formatter_writes_one_json_object_with_the_fields(json_lines):
    log = logging.getLogger("pagerline.test")
    log.warning("delivery %s refused", 42)
    try:
        raise ValueError("bad body\nsecond line")
    except ValueError:
        log.exception("it broke")
    first, second = json_lines()
    assert first["level"] == "WARNING" and first["logger"] == "pagerline.test"
    assert first["message"] == "delivery 42 refused"
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert "exception" not in first and "request_id" not in first
    assert second["message"] == "it broke" and second["level"] == "ERROR"
    assert "ValueError: bad body\nsecond line" in second["exception"]


@pytest.mark.django_db
def test_a_requests_log_lines_and_response_carry_its_request_id(client, users, json_lines):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="edge-7f3a.42")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "edge-7f3a.42"
    [line] = [line for line in json_lines() if line["logger"] == "django.request"]
    assert line["message"] == "Not Found: /no-such-page/"
    assert line["request_id"] == "edge-7f3a.42"


@pytest.mark.django_db
def test_a_request_without_a_sane_id_gets_a_new_one(client, users, json_lines):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID='forged" "level": "INFO')
    made_up = response["X-Request-ID"]
    assert len(made_up) == 32 and "forged" not in made_up
    [line] = [line for line in json_lines() if line["logger"] == "django.request"]
    assert line["request_id"] == made_up
    other = client.get("/healthz")
    assert other["X-Request-ID"] not in ("", made_up)


@pytest.mark.django_db
def test_a_webhook_answer_carries_the_request_id(client, integration):
    from tests.support import WsgiClient

    _, token = integration
    response = WsgiClient().post(
        f"/hooks/alertmanager/{token}", "{not json", headers={"X-Request-ID": "am-1"}
    )
    assert response.status_code == 400
    assert response["X-Request-ID"] == "am-1"


def test_a_celery_tasks_log_lines_carry_its_task_id(json_lines):
    from config.celery import app

    @app.task
    def say():
        logging.getLogger("pagerline.test").info("from a task")

    logging.getLogger("pagerline.test").setLevel(logging.INFO)
    result = say.apply(task_id="task-1234")
    assert result.successful()
    [line] = json_lines()
    assert line["task_id"] == "task-1234" and "request_id" not in line


def test_a_bad_log_format_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("PAGERLINE_LOG_FORMAT", "xml")
    with pytest.raises(ImproperlyConfigured, match="PAGERLINE_LOG_FORMAT='xml'"):
        env.env_choice("PAGERLINE_LOG_FORMAT", "text", ("text", "json"))


@pytest.mark.parametrize(
    ("value", "json_out"), [("json", True), ("", False), ("carrier-pigeon", None)]
)
def test_the_setting_picks_the_format_at_start_up(value, json_out):
    script = "import django, logging; django.setup(); logging.getLogger('x').warning('hello')"
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PAGERLINE_LOG_FORMAT": value,
        },
        capture_output=True,
        text=True,
    )
    if json_out is None:
        assert result.returncode != 0
        assert "PAGERLINE_LOG_FORMAT='carrier-pigeon' is not one of text, json" in result.stderr
    elif json_out:
        line = json.loads(result.stderr.strip().splitlines()[-1])
        assert (line["level"], line["logger"], line["message"]) == ("WARNING", "x", "hello")
    else:
        assert result.stderr.strip().splitlines()[-1].endswith(" WARNING x hello")
