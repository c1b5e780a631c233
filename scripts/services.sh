#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis on loopback, on free ports, for the test suite and benchmarks.
# Usage: scripts/services.sh COMMAND [ARGS...] — runs COMMAND with DATABASE_URL and REDIS_URL set,
# then stops both servers, also when COMMAND fails. Installs the servers with apt when missing.
set -euo pipefail

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)

pg_bindir() {
  local d
  if command -v pg_config >/dev/null; then
    d=$(pg_config --bindir 2>/dev/null || true)
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && { echo "$d"; return; }
  fi
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && { echo "$d"; return; }
  done
  return 1
}
pg_bindir >/dev/null || need_apt+=(postgresql)
if [ "${WITH_CHROMIUM:-0}" = 1 ] && ! command -v chromium >/dev/null; then need_apt+=(chromium); fi
if [ "${WITH_WRK:-0}" = 1 ] && ! command -v wrk >/dev/null; then need_apt+=(wrk); fi

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${need_apt[*]} with apt-get..."
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "Please install: ${need_apt[*]} (Debian/Ubuntu: sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi
PGBIN=$(pg_bindir)

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

RUNDIR=$(mktemp -d /tmp/tokenoffset-services.XXXXXX)
chmod 755 "$RUNDIR"
PGDATA="$RUNDIR/pg"
PGPORT=$(free_port)
RPORT=$(free_port)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  set +e
  redis-cli -p "$RPORT" shutdown nosave >/dev/null 2>&1
  [ -f "$PGDATA/postmaster.pid" ] && "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1
  rm -rf "$RUNDIR"
}
trap cleanup EXIT INT TERM

mkdir -p "$PGDATA"
chmod 700 "$PGDATA"
[ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
"${as_pg[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres tokenoffset
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$RUNDIR" \
  --daemonize yes --pidfile "$RUNDIR/redis.pid" --logfile "$RUNDIR/redis.log"
for _ in $(seq 100); do redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done

export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/tokenoffset"
export REDIS_URL="redis://127.0.0.1:$RPORT/0"
echo "PostgreSQL on 127.0.0.1:$PGPORT, Redis on 127.0.0.1:$RPORT"
"$@"
