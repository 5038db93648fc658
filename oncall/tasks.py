"""Celery tasks of the oncall app: none today (handoff notices are sent by
incidents.tasks.send_handoff_notices, the side that has every channel)."""
