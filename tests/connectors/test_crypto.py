import base64
import os
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from connectors import crypto
from connectors.models import EstimateSource

CANARY = "sk-ant-admin01-" + "CANARY-crypto-test-" + "0123456789" * 4  # a fake key


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def make_source(account, key=CANARY) -> EstimateSource:
    public_id = uuid.uuid4()
    return EstimateSource.objects.create(
        account=account,
        public_id=public_id,
        vendor="anthropic",
        label="Acme",
        key_ciphertext=crypto.encrypt(key, source_public_id=public_id),
        key_hint=key[-4:],
    )


def test_round_trip_and_fresh_nonce_per_write():
    sid = uuid.uuid4()
    a = crypto.encrypt(CANARY, source_public_id=sid)
    b = crypto.encrypt(CANARY, source_public_id=sid)
    assert a != b
    assert crypto.decrypt(a, source_public_id=sid) == CANARY


def test_the_database_row_holds_no_plaintext(account):
    source = make_source(account)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM connectors_estimatesource WHERE id = %s", [source.pk])
        row = cursor.fetchone()
    dumped = repr(row).encode() + b"".join(bytes(v) for v in row if isinstance(v, memoryview))
    assert CANARY.encode() not in dumped
    assert b"CANARY" not in dumped
    assert CANARY not in repr(source)


def test_a_ciphertext_moved_to_another_row_fails(account):
    first, second = make_source(account), make_source(account, key=CANARY + "x")
    EstimateSource.objects.filter(pk=second.pk).update(key_ciphertext=first.key_ciphertext)
    second.refresh_from_db()
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(second.key_ciphertext, source_public_id=second.public_id)


def test_rotation_re_encrypts_every_row_and_keys_still_work(account, settings):
    settings.TOKENOFFSET_ENCRYPTION_KEYS = f"old:{new_key()}"
    sources = [make_source(account, key=f"{CANARY}-{i}") for i in range(3)]
    old_blobs = {s.pk: bytes(s.key_ciphertext) for s in sources}

    settings.TOKENOFFSET_ENCRYPTION_KEYS = f"new:{new_key()},{settings.TOKENOFFSET_ENCRYPTION_KEYS}"
    call_command("rotate_encryption_keys")
    for i, source in enumerate(sources):
        source.refresh_from_db()
        assert crypto.key_id(source.key_ciphertext) == "new"
        assert bytes(source.key_ciphertext) != old_blobs[source.pk]
        assert crypto.decrypt(source.key_ciphertext, source_public_id=source.public_id) == (
            f"{CANARY}-{i}"
        )

    # Safe to re-run; and once the old key is dropped everything still decrypts.
    call_command("rotate_encryption_keys")
    settings.TOKENOFFSET_ENCRYPTION_KEYS = settings.TOKENOFFSET_ENCRYPTION_KEYS.split(",")[0]
    for source in sources:
        assert crypto.decrypt(source.key_ciphertext, source_public_id=source.public_id)


def test_rotation_reports_rows_it_cannot_decrypt(account, settings):
    settings.TOKENOFFSET_ENCRYPTION_KEYS = f"lost:{new_key()}"
    make_source(account)
    settings.TOKENOFFSET_ENCRYPTION_KEYS = f"new:{new_key()}"
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_encryption_keys")


@pytest.mark.parametrize("value", ["nokey", "k1:not-base64!", "k1:" + "QUFB", ""])
def test_malformed_key_settings_are_refused(settings, value):
    from django.core.exceptions import ImproperlyConfigured

    settings.TOKENOFFSET_ENCRYPTION_KEYS = value
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x", source_public_id=uuid.uuid4())
