"""Browser end-to-end tests: a real Chromium against a real gunicorn and Celery worker."""
