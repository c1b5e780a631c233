"""Create the local development encryption key file once (``make run`` calls this)."""

import base64
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Write a random AES-256 key to the development key file, unless it exists."
    requires_system_checks = []  # the checks would refuse the missing key this command makes

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Development only: in production set TOKENOFFSET_ENCRYPTION_KEYS yourself."
            )
        path = settings.DEV_ENCRYPTION_KEYS_FILE
        if path.exists():
            self.stdout.write(f"{path} exists; left as it is.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        path.write_text(f"dev1:{key}\n")
        path.chmod(0o600)
        self.stdout.write(f"Wrote a new development encryption key to {path}.")
