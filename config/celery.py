import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("pagerline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic safety nets. Each task is idempotent, so a beat that fires twice (or two beats
# by mistake) costs work, not correctness.
app.conf.beat_schedule = {
    "redrive-deliveries": {"task": "incidents.redrive_deliveries", "schedule": 5.0},
}
