"""Settings for the test suite: the development defaults, whatever the shell has set.

``make test`` gives DATABASE_URL and REDIS_URL (PostgreSQL and Redis on loopback); plain
``pytest`` runs on SQLite. A fresh encryption key per run, shared with the worker processes
that some tests start (they inherit this environment).
"""

import base64
import os
import secrets

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault(
    "TOKENOFFSET_ENCRYPTION_KEYS", "test1:" + base64.b64encode(secrets.token_bytes(32)).decode()
)

from tokenoffset.settings import *  # noqa: E402, F403
