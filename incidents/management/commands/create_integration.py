from django.core.management.base import BaseCommand, CommandError

from incidents.catalog import changes
from incidents.intake import sources
from incidents.models import Service


class Command(BaseCommand):
    help = "Create an integration for a service and print its webhook URL (last line)."

    def add_arguments(self, parser):
        parser.add_argument("--service", required=True, help="service slug")
        parser.add_argument("--source", required=True, choices=sorted(sources.REGISTRY))
        parser.add_argument("--name", default="")

    def handle(self, *args, service, source, name, **options):
        try:
            target = Service.objects.get(slug=service)
        except Service.DoesNotExist:
            raise CommandError(f"no service with slug {service!r}") from None
        # Through the same service as the API and the pages, so the creation is audited
        # (with no actor: whoever ran the command).
        integration, token = changes.integration_add(
            actor=None, service=target, source=source, name=name
        )
        self.stdout.write(f"Created integration {integration.pk} ({integration.name}).")
        self.stdout.write("The token is shown only now; keep the URL secret.")
        self.stdout.write(changes.webhook_url(integration=integration, token=token))
