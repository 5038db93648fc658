import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings  # read lazily; DJANGO_SETTINGS_MODULE is set above

app = Celery("pagerline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic safety nets. Each task is idempotent, so a beat that fires twice (or two beats
# by mistake) costs work, not correctness.
app.conf.beat_schedule = {
    "redrive-deliveries": {"task": "incidents.redrive_deliveries", "schedule": 5.0},
    "check-heartbeats": {"task": "incidents.check_heartbeats", "schedule": 30.0},
    "handoff-notices": {"task": "incidents.send_handoff_notices", "schedule": 60.0},
    "escalation-audit": {
        "task": "incidents.escalation_audit",
        "schedule": float(settings.PAGERLINE_ESCALATION_AUDIT_SECONDS),
    },
    "pages-audit": {
        "task": "incidents.pages_audit",
        "schedule": float(settings.PAGERLINE_ESCALATION_AUDIT_SECONDS),
    },
    "redrive-notifications": {
        "task": "incidents.redrive_notifications",
        "schedule": float(settings.PAGERLINE_ESCALATION_AUDIT_SECONDS),
    },
    # Slack messages still showing a state older than their incident's (lost redraw task).
    "slack-audit": {"task": "incidents.slack_audit", "schedule": 60.0},
    "metrics-attach-drill-incidents": {"task": "metrics.attach_drill_incidents", "schedule": 5.0},
    # Each team's previous ISO week in its own zone; a second run returns the snapshot.
    "metrics-weekly-reports": {
        "task": "metrics.build_weekly_reports",
        "schedule": crontab(minute=0, hour=6, day_of_week="mon"),
    },
    # The MTTx read model: closed weeks rolled up once, re-done when later events touch them.
    "metrics-rollup-closed-weeks": {
        "task": "metrics.rollup_closed_weeks",
        "schedule": crontab(minute=7),
    },
}
