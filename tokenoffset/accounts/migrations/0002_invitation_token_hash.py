"""Invitations keep only the SHA-256 of their token.

Tokens already sent are hashed, not dropped: the links in those emails keep working (until
the invitation is seven days old), and no usable token is left in the database.
"""

import hashlib

from django.db import migrations


def hash_tokens(apps, schema_editor):
    Invitation = apps.get_model("accounts", "Invitation")
    for invitation in Invitation.objects.all():
        invitation.token_hash = hashlib.sha256(invitation.token_hash.encode()).hexdigest()
        invitation.save(update_fields=["token_hash"])


def drop_invitations(apps, schema_editor):
    # A hash cannot be turned back into its token: pending invitations are dropped.
    apps.get_model("accounts", "Invitation").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RenameField(model_name="invitation", old_name="token", new_name="token_hash"),
        migrations.RunPython(hash_tokens, drop_invitations),
    ]
