"""Pytest plugin: a session-wide vendor sandbox on a free loopback port.

Use the ``vendor_sandbox`` fixture (the base URL) with keys from
``connectors.sandbox.catalogue.make_key``; give each test its own key (the default random
nonce) so stateful behaviours such as ``ratelimited`` never leak between tests.
"""

from __future__ import annotations

import pytest

from connectors.sandbox.server import start_in_thread, stop


@pytest.fixture(scope="session")
def vendor_sandbox():
    """Base URL of an in-process vendor sandbox, e.g. ``http://127.0.0.1:53117``."""
    server, base_url = start_in_thread(host="127.0.0.1", port=0)
    yield base_url
    stop(server)
