#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the tests and benchmarks, or stop it.
#
#   scripts/postgresql-for-tests.sh start DIR [PORT]   prints the database URL on stdout
#   scripts/postgresql-for-tests.sh stop DIR
#
# The cluster trusts connections from 127.0.0.1 only and contains nothing but test data.
# It uses the C locale, so text sorts by code point as in SQLite, and commits without
# waiting for the disk (synchronous_commit=off), as SQLite in WAL mode with
# synchronous=NORMAL does. Run as root, the server runs as the "postgres" user, because
# PostgreSQL refuses to run as root.
set -euo pipefail

action=${1:?start or stop}
dir=${2:?a folder for the cluster}
port=${3:-54329}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
    echo "PostgreSQL is not installed: apt-get install -y postgresql" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$action" in
start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bindir/initdb" -D "$dir/data" --auth=trust --username=postgres \
            --locale=C --encoding=UTF8 >"$dir/initdb.log"
    fi
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c synchronous_commit=off" start >&2
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2
    ;;
*)
    echo "unknown action: $action (start or stop)" >&2
    exit 2
    ;;
esac
