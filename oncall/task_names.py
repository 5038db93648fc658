"""The names of the oncall app's Celery tasks, written once: the tasks are registered under
them (oncall/tasks.py) and the beat schedule (config/celery.py) runs them.
tests/test_task_names.py checks each resolves to a registered task."""

SEND_HANDOFF_NOTICES = "oncall.send_handoff_notices"
