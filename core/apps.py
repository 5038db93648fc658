from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Registers the API token's OpenAPI security scheme before any schema is generated.
        from core import openapi  # noqa: F401
