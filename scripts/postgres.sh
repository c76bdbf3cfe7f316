#!/usr/bin/env bash
# A throwaway PostgreSQL server on localhost for the shared-search tests.
#   bash scripts/postgres.sh start   -> prints the database URL (installs PostgreSQL from Debian if missing)
#   bash scripts/postgres.sh stop
set -euo pipefail
DATA=${EMBER_PG_DATA:-/tmp/ember-postgres}
PORT=${EMBER_PG_PORT:-55432}

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$1"; else bash -c "$1"; fi; }

case "${1:-start}" in
start)
    BIN=$(find_bin)
    if [ -z "$BIN" ]; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
        BIN=$(find_bin)
    fi
    if ! as_postgres "$BIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
        rm -rf "$DATA" && mkdir -p "$DATA"
        [ "$(id -u)" = 0 ] && chown postgres "$DATA"
        as_postgres "$BIN/initdb -D $DATA -A trust -U postgres" >/dev/null
        as_postgres "$BIN/pg_ctl -D $DATA -o '-p $PORT -k /tmp -c listen_addresses=localhost' -l $DATA/server.log -w start" >/dev/null
        as_postgres "$BIN/psql -h localhost -p $PORT -U postgres -qc 'CREATE DATABASE ember_tune'" >/dev/null
    fi
    echo "postgresql://postgres@localhost:$PORT/ember_tune"
    ;;
stop)
    BIN=$(find_bin)
    [ -n "$BIN" ] && as_postgres "$BIN/pg_ctl -D $DATA -m fast stop" >/dev/null 2>&1 || true
    ;;
esac
