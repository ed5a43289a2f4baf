#!/usr/bin/env bash
# Private local PostgreSQL cluster for AlertNet dev and tests (no Docker, no systemd needed).
# Usage: infra/postgres.sh start|stop|status|url
#   ALERTNET_PG_DATA  data folder (default <repo>/.local/postgres)
#   ALERTNET_PG_PORT  TCP port    (default 5433, so it never clashes with a system cluster on 5432)
set -euo pipefail
umask 022   # folders we create must stay traversable by the postgres user

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${ALERTNET_PG_PORT:-5433}
URL="Host=127.0.0.1;Port=$PORT;Database=alertnet;Username=alertnet"
CMD=${1:-}

die() { echo "postgres.sh: $*" >&2; exit 1; }

# `url` needs no server or binaries: answer before touching anything.
case $CMD in
  url) echo "$URL"; exit 0 ;;
  start|stop|status) ;;
  *) die "usage: $0 start|stop|status|url" ;;
esac

find_bin() {  # newest installed major version wins; prints nothing if none
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | while read -r d; do
        [[ -x /usr/lib/postgresql/$d/bin/pg_ctl ]] && echo "$d"; done | tail -n1) || true
  [[ -z $v ]] || echo "/usr/lib/postgresql/$v/bin"
}
BIN=$(find_bin)
if [[ -z $BIN ]]; then
  if [[ $CMD != start ]]; then
    echo "PostgreSQL is not installed, so not running"
    [[ $CMD == stop ]] && exit 0 || exit 3
  fi
  echo "PostgreSQL binaries missing; installing the postgresql package..."
  SUDO=(); [[ $EUID -eq 0 ]] || SUDO=(sudo)
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
  BIN=$(find_bin)
  [[ -n $BIN ]] || die "pg_ctl still missing after installing postgresql"
fi

# PostgreSQL refuses to run as root, so as root everything runs as the postgres system user;
# cd / because that user usually cannot read the caller's working directory.
if [[ $EUID -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "no postgres system user (is the postgresql package installed?)"
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  as_pg() { "$@"; }
fi

DATA=${ALERTNET_PG_DATA:-$ROOT/.local/postgres}
if [[ $EUID -eq 0 && -z ${ALERTNET_PG_DATA:-} ]]; then
  # A repo under e.g. /root (mode 0700) is unreachable for postgres: use /var/tmp instead.
  probe=$ROOT/.local; [[ -d $probe ]] || probe=$ROOT
  if ! as_pg test -x "$probe"; then
    DATA=/var/tmp/alertnet-postgres-$(printf %s "$ROOT" | sha256sum | cut -c1-12)/data
    echo "note: postgres cannot traverse $probe; using data dir $DATA" >&2
  fi
fi
RUN=$DATA-run          # unix socket + lock dir, kept next to the data, not in /var/run
LOG=$DATA-run/server.log
(( ${#RUN} < 90 )) || die "socket dir path too long for a unix socket: $RUN (set ALERTNET_PG_DATA)"

running() { [[ -f $DATA/PG_VERSION ]] && as_pg "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1; }

ensure_db() {  # idempotent; via the socket as the bootstrap superuser created by initdb -U postgres
  as_pg "$BIN/psql" -h "$RUN" -p "$PORT" -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'CREATE ROLE alertnet LOGIN CREATEDB SUPERUSER'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'alertnet') \gexec
SELECT 'CREATE DATABASE alertnet OWNER alertnet'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'alertnet') \gexec
SQL
}

case $CMD in
status)
  if running; then echo "running: $DATA on 127.0.0.1:$PORT"; else echo "not running ($DATA)"; exit 3; fi ;;
stop)
  if running; then as_pg "$BIN/pg_ctl" stop -D "$DATA" -m fast -w; else echo "not running ($DATA)"; fi ;;
start)
  if running; then ensure_db; echo "already running: $DATA on 127.0.0.1:$PORT"; exit 0; fi
  mkdir -p "$DATA" "$RUN"
  # Serialise concurrent cold starts (e.g. drill.sh and test.sh launched together).
  exec 9>"$DATA.lock"; flock 9
  if running; then ensure_db; echo "already running: $DATA on 127.0.0.1:$PORT"; exit 0; fi
  if [[ $EUID -eq 0 ]]; then chown postgres: "$DATA" "$RUN"; fi
  chmod 700 "$DATA"
  if [[ ! -f $DATA/PG_VERSION ]]; then
    locale=C; locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' && locale=C.UTF-8
    # trust auth is fine: a private dev/test cluster whose only listeners are loopback and a
    # socket in a private folder; the default pg_hba.conf lists nothing but local/127.0.0.1/::1.
    as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale="$locale" >/dev/null
    cat >>"$DATA/postgresql.conf" <<'CONF'
# AlertNet test cluster: tests open many pooled connections in parallel.
listen_addresses = '127.0.0.1'
max_connections = 300
shared_buffers = 256MB
CONF
    echo "initialised $DATA ($(basename "$(dirname "$BIN")"), locale $locale)"
  fi
  # Port and socket dir go on the command line so ALERTNET_PG_PORT can change between runs.
  # 9>&-: the server must not inherit the lock, or the next concurrent start would wait forever.
  if ! as_pg "$BIN/pg_ctl" start -D "$DATA" -l "$LOG" -w -t 60 -o "-p $PORT -k '$RUN'" >/dev/null 9>&-; then
    echo "PostgreSQL failed to start; last lines of $LOG:" >&2
    tail -n 30 "$LOG" >&2 || true
    exit 1
  fi
  ensure_db
  echo "started: $DATA on 127.0.0.1:$PORT ($URL)" ;;
esac
