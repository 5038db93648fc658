"""The names of the incidents app's Celery tasks, written once: the tasks are registered
under them (incidents/tasks.py), callers enqueue by them with `send_task` (so intake and
escalation need not import the task modules), and the beat schedule (config/celery.py)
runs them. tests/test_task_names.py checks each resolves to a registered task."""

DRAIN_DELIVERIES = "incidents.drain_deliveries"
REDRIVE_DELIVERIES = "incidents.redrive_deliveries"
PURGE_DELIVERIES = "incidents.purge_deliveries"
CHECK_HEARTBEATS = "incidents.check_heartbeats"
ESCALATE = "incidents.escalate"
ESCALATE_MANY = "incidents.escalate_many"
ESCALATION_AUDIT = "incidents.escalation_audit"
SEND_NOTIFICATION = "incidents.send_notification"
REDRIVE_NOTIFICATIONS = "incidents.redrive_notifications"
PAGE_STEP = "incidents.page_step"
PAGES_AUDIT = "incidents.pages_audit"
SEND_HANDOFF_NOTICES = "incidents.send_handoff_notices"
SLACK_CHANNEL_POSTS = "incidents.slack_channel_posts"
SLACK_REDRAW = "incidents.slack_redraw"
SLACK_AUDIT = "incidents.slack_audit"
