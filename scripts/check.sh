#!/usr/bin/env bash
# Everything `make test` checks, against the servers scripts/services.sh started.
set -euo pipefail
BIN=.venv/bin
export DEBUG=true
# One throwaway encryption key for the checks, the suite and the workers it starts.
TOKENOFFSET_ENCRYPTION_KEYS="test1:$($BIN/python -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')"
export TOKENOFFSET_ENCRYPTION_KEYS

echo "== ruff"
$BIN/ruff check .
$BIN/ruff format --check .

echo "== import layers"
$BIN/lint-imports --no-cache

echo "== migrations and system checks"
$BIN/python manage.py makemigrations --check --dry-run
$BIN/python manage.py check

echo "== deployment checks (production-like environment)"
DEBUG=false SECRET_KEY="$($BIN/python -c 'import secrets;print(secrets.token_urlsafe(50))')" \
  ALLOWED_HOSTS=tokenoffset.example TOKENOFFSET_ENCRYPTION_KEYS="k1:$($BIN/python -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')" \
  $BIN/python manage.py check --deploy --fail-level WARNING

echo "== tests"
$BIN/pytest "$@"
