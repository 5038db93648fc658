import os

from celery import Celery, signals
from celery.schedules import crontab

from config.broker import use_fixed_transports

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings  # read lazily; DJANGO_SETTINGS_MODULE is set above

# Plain string constants (no models, no Django), safe to import before setup.
from incidents import task_names as incidents_tasks
from metrics import task_names as metrics_tasks

use_fixed_transports()  # a worker survives Redis going away (config/broker.py)
app = Celery("pagerline")


def _json_logging(**kwargs):
    """With PAGERLINE_LOG_FORMAT=json the worker and beat log through Django's LOGGING (one
    JSON object per line, with the task id) instead of Celery's own format. Connected only
    then: with no receiver Celery sets up its own logging, so the text default is as it was."""
    import logging.config

    logging.config.dictConfig(settings.LOGGING)


if settings.PAGERLINE_LOG_FORMAT == "json":
    signals.setup_logging.connect(_json_logging, weak=False)

app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic safety nets. Each task is idempotent, so a beat that fires twice (or two beats
# by mistake) costs work, not correctness.
app.conf.beat_schedule = {
    "redrive-deliveries": {"task": incidents_tasks.REDRIVE_DELIVERIES, "schedule": 5.0},
    # Retention of raw webhook bodies: every 10 minutes, each run time-boxed
    # (PAGERLINE_DELIVERY_PURGE_SECONDS), so deletes keep up in small steps.
    "purge-deliveries": {"task": incidents_tasks.PURGE_DELIVERIES, "schedule": 600.0},
    "check-heartbeats": {"task": incidents_tasks.CHECK_HEARTBEATS, "schedule": 30.0},
    "handoff-notices": {"task": incidents_tasks.SEND_HANDOFF_NOTICES, "schedule": 60.0},
    "escalation-audit": {
        "task": incidents_tasks.ESCALATION_AUDIT,
        "schedule": float(settings.PAGERLINE_ESCALATION_AUDIT_SECONDS),
    },
    "pages-audit": {
        "task": incidents_tasks.PAGES_AUDIT,
        "schedule": float(settings.PAGERLINE_ESCALATION_AUDIT_SECONDS),
    },
    "redrive-notifications": {
        "task": incidents_tasks.REDRIVE_NOTIFICATIONS,
        "schedule": float(settings.PAGERLINE_ESCALATION_AUDIT_SECONDS),
    },
    # Slack messages still showing a state older than their incident's (lost redraw task).
    "slack-audit": {"task": incidents_tasks.SLACK_AUDIT, "schedule": 60.0},
    "metrics-attach-drill-incidents": {
        "task": metrics_tasks.ATTACH_DRILL_INCIDENTS,
        "schedule": 5.0,
    },
    # Each team's previous ISO week once its own Monday 06:00 has passed: hourly, because
    # that hour is a different UTC hour per zone (a Monday-06:00-UTC run found teams west of
    # UTC-6 still in Sunday, and their report came a week late). A built week is returned.
    "metrics-weekly-reports": {
        "task": metrics_tasks.BUILD_WEEKLY_REPORTS,
        "schedule": crontab(minute=0),
    },
    # The MTTx read model: closed weeks rolled up once, re-done when later events touch them.
    "metrics-rollup-closed-weeks": {
        "task": metrics_tasks.ROLLUP_CLOSED_WEEKS,
        "schedule": crontab(minute=7),
    },
}
