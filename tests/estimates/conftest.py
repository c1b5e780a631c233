import uuid

import pytest

from connectors import crypto
from connectors.models import EstimateSource
from connectors.sandbox.catalogue import make_key


@pytest.fixture
def sandbox(settings, vendor_sandbox):
    settings.VENDOR_SANDBOX_URL = vendor_sandbox
    return vendor_sandbox


@pytest.fixture
def make_source(account, owner, sandbox):
    """A sandbox source of the given behaviour, stored exactly as the add flow stores it."""

    def make(behaviour="flat", vendor="anthropic", *, params=None, key=None):
        key = key or make_key(vendor, behaviour, params=params)
        public_id = uuid.uuid4()
        return EstimateSource.objects.create(
            account=account,
            public_id=public_id,
            vendor=vendor,
            label=f"{vendor} {behaviour}",
            key_ciphertext=crypto.encrypt(key, source_public_id=public_id),
            key_hint=key[-4:],
            is_sandbox=True,
            created_by=owner,
        )

    return make
