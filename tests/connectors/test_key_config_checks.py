"""A bad TOKENOFFSET_ENCRYPTION_KEYS is a system check error at start-up, not a 500 later."""

import base64
import os
import uuid

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from connectors import crypto


def b64(n: int) -> str:
    return base64.b64encode(os.urandom(n)).decode()


def connector_errors() -> list:
    return [m for m in run_checks() if m.id and m.id.startswith("connectors.")]


GOOD = f"k2:{b64(32)}, k1:{b64(32)}"


@pytest.mark.parametrize(
    ("value", "check_id"),
    [
        pytest.param(b64(32), "connectors.E001", id="no-key-id"),
        pytest.param(f"k2:{b64(32)},{b64(32)}", "connectors.E001", id="second-entry-no-key-id"),
        pytest.param(f":{b64(32)}", "connectors.E002", id="empty-key-id"),
        pytest.param(f"k.2:{b64(32)}", "connectors.E002", id="dot-in-key-id"),  # blob separator
        pytest.param(f"k1:{b64(32)},k1:{b64(32)}", "connectors.E003", id="repeated-key-id"),
        pytest.param("k1:not base64!", "connectors.E004", id="not-base64"),
        pytest.param(f"k1:{b64(32)[:-3]}", "connectors.E004", id="bad-padding"),
        pytest.param(f"k1:{b64(16)}", "connectors.E005", id="16-bytes"),  # AES-128
        pytest.param(f"k1:{b64(33)}", "connectors.E005", id="33-bytes"),
        pytest.param("", "connectors.E006", id="empty"),
        pytest.param(" , ", "connectors.E006", id="only-commas"),
    ],
)
def test_a_malformed_encryption_key_setting_is_a_system_check_error(value, check_id):
    with override_settings(TOKENOFFSET_ENCRYPTION_KEYS=value):
        errors = connector_errors()
    assert [e.id for e in errors] == [check_id]
    assert errors[0].level >= 40  # an Error: `check` and `migrate` refuse to go on
    for part in value.replace(",", ":").split(":"):
        if len(part.strip()) > 8:  # no key material in the message or the hint
            assert part.strip() not in errors[0].msg + errors[0].hint


def test_a_well_formed_encryption_key_setting_passes_the_checks():
    with override_settings(TOKENOFFSET_ENCRYPTION_KEYS=GOOD):
        assert connector_errors() == []


def test_manage_py_check_refuses_to_go_on_with_a_short_key():
    with (
        override_settings(TOKENOFFSET_ENCRYPTION_KEYS=f"k1:{b64(24)}"),
        pytest.raises(SystemCheckError, match=r"connectors\.E005.*24 bytes long"),
    ):
        call_command("check")


def test_every_problem_is_reported_at_once_by_entry():
    value = f"k1:{b64(32)},k1:{b64(32)},k3:{b64(8)}"
    with override_settings(TOKENOFFSET_ENCRYPTION_KEYS=value):
        errors = connector_errors()
    assert [e.id for e in errors] == ["connectors.E003", "connectors.E005"]
    assert "entry 2 (key id 'k1')" in errors[0].msg
    assert "entry 3 (key id 'k3')" in errors[1].msg


def test_a_repeated_key_id_is_refused_instead_of_encrypting_with_the_second_key(settings):
    settings.TOKENOFFSET_ENCRYPTION_KEYS = f"k1:{b64(32)},k1:{b64(32)}"
    with pytest.raises(ImproperlyConfigured, match="repeats a key id"):
        crypto.encrypt("x", source_public_id=uuid.uuid4())
