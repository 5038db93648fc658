"""Re-encrypt every stored secret with the first key of PAGERLINE_ENCRYPTION_KEYS.

Rotation: put a new key first in PAGERLINE_ENCRYPTION_KEYS (keep the old ones after it),
restart, run this command, then remove the old keys. Safe to run again or while Pagerline
runs: each row is rewritten in its own short transaction.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from incidents.models import ContactMethod


class Command(BaseCommand):
    help = "Re-encrypt stored secrets (Apprise URLs) with the first encryption key."

    def handle(self, *args, **options):
        count = 0
        ids = ContactMethod.objects.exclude(secret_target="").values_list("pk", flat=True)
        for method_id in ids.iterator():
            with transaction.atomic():
                method = ContactMethod.objects.select_for_update().filter(pk=method_id).first()
                if method is None:
                    continue
                # Reading decrypts with any configured key; saving encrypts with the first.
                method.save(update_fields=["secret_target"])
                count += 1
        self.stdout.write(f"re-encrypted {count} secret(s) with the first key")
