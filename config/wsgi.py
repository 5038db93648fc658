import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from incidents.hooks_wsgi import HookFront  # noqa: E402  (needs the settings configured)

# The alert webhooks are answered in front of Django's request handling (see hooks_wsgi).
application = HookFront(django_application)
