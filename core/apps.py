from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Registers the API token's OpenAPI security scheme before any schema is generated.
        # Registers the deployment checks of `manage.py check --deploy`.
        from core import (
            checks,  # noqa: F401
            openapi,  # noqa: F401
        )
