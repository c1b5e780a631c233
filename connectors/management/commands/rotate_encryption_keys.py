from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from connectors import crypto
from connectors.models import EstimateSource


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored vendor key under the first key of TOKENOFFSET_ENCRYPTION_KEYS. "
        "Safe to re-run: rows already on that key are skipped."
    )

    def handle(self, *args, **options):
        primary, _ = crypto.keys()
        rotated = skipped = failed = 0
        for pk in EstimateSource.objects.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                source = EstimateSource.objects.select_for_update().get(pk=pk)
                if crypto.key_id(source.key_ciphertext) == primary:
                    skipped += 1
                    continue
                try:
                    plaintext = crypto.decrypt(
                        source.key_ciphertext, source_public_id=source.public_id
                    )
                except crypto.DecryptionError as e:
                    failed += 1
                    self.stderr.write(f"source {source.public_id}: {e}")
                    continue
                source.key_ciphertext = crypto.encrypt(plaintext, source_public_id=source.public_id)
                source.save(update_fields=["key_ciphertext"])
                rotated += 1
        self.stdout.write(f"rotated {rotated}, already on {primary!r} {skipped}, failed {failed}")
        if failed:
            raise CommandError(f"{failed} source(s) could not be decrypted; see above.")
