#!/usr/bin/env bash
# `make run`: web, worker + beat, sampling worker, vendor sandbox in the foreground; Ctrl-C stops all.
# Local defaults: SQLite and a filesystem Celery broker under var/. Environment variables given to
# `make run` reach every process and win over these defaults.
set -euo pipefail
BIN=.venv/bin
export DEBUG="${DEBUG:-true}"
export PORT="${PORT:-8000}"
export SANDBOX_PORT="${SANDBOX_PORT:-8765}"
export VENDOR_SANDBOX_URL="${VENDOR_SANDBOX_URL:-http://127.0.0.1:$SANDBOX_PORT}"
export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"
mkdir -p var/log

$BIN/python manage.py dev_encryption_key
$BIN/python manage.py migrate --noinput
$BIN/python manage.py local_logs_demo var/demo-logs  # "Try it with demo logs"

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop_all INT TERM EXIT

$BIN/python -m connectors.sandbox --host 127.0.0.1 --port "$SANDBOX_PORT" &
pids+=($!)
$BIN/celery -A tokenoffset worker --beat --queues celery --concurrency 2 --loglevel INFO \
  --schedule var/celerybeat-schedule &
pids+=($!)
# Samples: their own queue, on threads (few here: SQLite takes one writer at a time).
SAMPLING_CONCURRENCY="${SAMPLING_CONCURRENCY:-4}" $BIN/celery -A tokenoffset worker \
  --queues sampling --pool threads --hostname sampler@%h --loglevel INFO &
pids+=($!)
$BIN/python manage.py runserver "127.0.0.1:$PORT" &
pids+=($!)

echo
echo "Token Offset is starting on http://127.0.0.1:$PORT  (vendor sandbox on :$SANDBOX_PORT). Ctrl-C stops everything."
# Exit (and stop the rest) as soon as any of them dies.
wait -n "${pids[@]}"
