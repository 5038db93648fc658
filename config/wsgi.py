import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from config.hook_front import HookFront  # noqa: E402 - needs the settings loaded above

# The alert webhooks are answered in front of Django's request handling (see config.hook_front).
application = HookFront(django_application)
