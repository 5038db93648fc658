"""Log lines for log pipelines: `PAGERLINE_LOG_FORMAT=json` writes one JSON object per line.

Every record carries the id of what produced it: the request's (`X-Request-ID`, taken from
the client or proxy when it sends a sane one, else made up; RequestIdMiddleware keeps it in
a context variable for the request, which is per greenlet under gevent) or, in a Celery
worker, the task's. The default text format is unchanged."""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# A request id from outside is copied into every log line: only a short plain token, so
# a client cannot forge log lines or fields with it.
_SANE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id_from(header: str | None) -> str:
    """The id to use for a request: its own X-Request-ID when sane, else a new one."""
    if header and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _task_id() -> str | None:
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - Celery is a requirement
        return None
    task = current_task
    return getattr(getattr(task, "request", None), "id", None) if task else None


class RequestIdFilter(logging.Filter):
    """Adds `request_id` and `task_id` (None outside a request or a task) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.task_id = _task_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = getattr(record, "request_id", None)
        task = getattr(record, "task_id", None)
        if request:
            line["request_id"] = request
        if task:
            line["task_id"] = task
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


LOG_FORMATS = ("text", "json")
