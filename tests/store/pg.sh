#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the store tests.
#
#   url=$(tests/store/pg.sh start)      # prints postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
#   RULEWRIGHT_TEST_PG_URL=$url pytest -m postgres tests/store
#   tests/store/pg.sh stop              # stops it and removes its data folder
#
# Installs the postgresql package with apt-get when no server binaries are found. Runs the
# server as the `postgres` user when started by root (initdb refuses root), otherwise as the
# current user. Only the URL goes to stdout; progress goes to stderr.
# Environment: RULEWRIGHT_PG_PORT (default: a free port), RULEWRIGHT_PG_DIR (default
# /tmp/rulewright-pg), PG_BIN (default: the newest /usr/lib/postgresql/*/bin).
set -euo pipefail

PGDIR="${RULEWRIGHT_PG_DIR:-/tmp/rulewright-pg}"

find_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_owner() {
  if [[ "$(id -u)" == "0" ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local bin port
  bin="$(find_bin)"
  if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    echo "pg.sh: installing postgresql" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bin="$(find_bin)"
  fi
  if [[ -f "$PGDIR/port" ]] && as_owner "$bin/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
    port="$(cat "$PGDIR/port")"
  else
    rm -rf "$PGDIR"
    mkdir -p "$PGDIR"
    [[ "$(id -u)" == "0" ]] && chown postgres "$PGDIR"
    port="${RULEWRIGHT_PG_PORT:-$(free_port)}"
    as_owner "$bin/initdb" -D "$PGDIR/data" -A trust -U postgres >"$PGDIR/initdb.log" 2>&1 \
      || { cat "$PGDIR/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
      -o "-k $PGDIR -p $port -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >&2
    echo "$port" | as_owner tee "$PGDIR/port" >/dev/null
  fi
  echo "postgresql+psycopg://postgres@127.0.0.1:${port}/postgres"
}

stop() {
  local bin
  bin="$(find_bin)"
  if [[ -d "$PGDIR/data" ]]; then
    as_owner "$bin/pg_ctl" -D "$PGDIR/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$PGDIR"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
