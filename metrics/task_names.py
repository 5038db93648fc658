"""The names of the metrics app's Celery tasks, written once: the tasks are registered under
them (metrics/tasks.py) and the beat schedule (config/celery.py) runs them.
tests/test_task_names.py checks each resolves to a registered task."""

ATTACH_DRILL_INCIDENTS = "metrics.attach_drill_incidents"
BUILD_WEEKLY_REPORTS = "metrics.build_weekly_reports"
EMAIL_WEEKLY_REPORT = "metrics.email_weekly_report"
ROLLUP_CLOSED_WEEKS = "metrics.rollup_closed_weeks"
