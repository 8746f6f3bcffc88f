# Sourced by test/citus/run and bench/citus: a throwaway Citus cluster on 127.0.0.1 (a
# coordinator and $CITUS_WORKERS workers, each a fresh initdb in a temp dir on a free port),
# with this checkout's session_persist installed privately (make install DESTDIR=..., loaded
# through Debian's extension_destdir) so other checkouts' installs change nothing here.
# cluster_stop (registered on EXIT by cluster_start) stops every node and removes the dirs.

CITUS_TARBALL_NAME=citus-13.2.2-pg15.tar.xz
PGBIN=/usr/lib/postgresql/${PG_MAJOR:-15}/bin

# The Citus build: SP_CITUS_TARBALL, else ../shared/pg relative to the checkout, else
# /work/shared/pg. Prints nothing when there is none.
citus_tarball() {
  local root=$1 c
  for c in "${SP_CITUS_TARBALL:-}" "${SP_PG_BUILDS:-$root/../shared/pg}/$CITUS_TARBALL_NAME" \
           "/work/shared/pg/$CITUS_TARBALL_NAME"; do
    [ -n "$c" ] && [ -f "$c" ] && { echo "$c"; return 0; }
  done
  return 1
}

# Installs Citus into Debian's PostgreSQL directories when it is not there yet (root only).
citus_install() {
  local tarball=$1
  [ -f "$PGBIN/../lib/citus.so" ] && [ -f "/usr/share/postgresql/${PG_MAJOR:-15}/extension/citus.control" ] && return 0
  [ "$(id -u)" -eq 0 ] || { echo "citus is not installed and this is not root" >&2; return 1; }
  tar -C / -xJf "$tarball"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

CLUSTER_DIR=
NODE_PORTS=()   # NODE_PORTS[0] is the coordinator

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cluster_stop() {
  [ -n "$CLUSTER_DIR" ] || return 0
  local d
  for d in "$CLUSTER_DIR"/node*; do
    [ -f "$d/postmaster.pid" ] && as_postgres "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
  done
  rm -rf "$CLUSTER_DIR"
  CLUSTER_DIR=
}

# cluster_start ROOT WORKERS [extra server options...]: builds and installs the checkout
# privately, starts the nodes, creates citus on each (database "postgres") and adds the
# workers to the coordinator. With CLUSTER_PLAIN=1 (and 0 workers): one plain server, no
# citus.
cluster_start() {
  local root=$1 workers=$2; shift 2
  CLUSTER_DIR=$(mktemp -d /tmp/session_persist-citus.XXXXXX)
  chmod 755 "$CLUSTER_DIR"
  mkdir -p "$CLUSTER_DIR/sock" && chown postgres: "$CLUSTER_DIR/sock" 2>/dev/null
  trap cluster_stop EXIT
  (cd "$root" && make -s -j"$(nproc)" PG_CONFIG="$PGBIN/pg_config" >/dev/null \
     && make -s install DESTDIR="$CLUSTER_DIR/destdir" PG_CONFIG="$PGBIN/pg_config" >/dev/null) || return 1
  chmod -R a+rX "$CLUSTER_DIR/destdir"
  local i d port preload="citus,$CLUSTER_DIR/destdir/usr/lib/postgresql/${PG_MAJOR:-15}/lib/session_persist.so"
  [ -n "${CLUSTER_PLAIN:-}" ] && preload=""
  NODE_PORTS=()
  for ((i = 0; i <= workers; i++)); do
    d=$CLUSTER_DIR/node$i
    mkdir -p "$d" && chown postgres: "$d" 2>/dev/null
    as_postgres "$PGBIN/initdb" -D "$d" -U postgres -A trust --no-sync >/dev/null || return 1
    port=$(free_port)
    NODE_PORTS+=("$port")
    cat >>"$d/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$CLUSTER_DIR/sock'
shared_preload_libraries = '$preload'
extension_destdir = '$CLUSTER_DIR/destdir'
fsync = off
synchronous_commit = off
max_connections = 200
max_prepared_transactions = 200
citus.log_distributed_deadlock_detection = on
CONF
    for opt in "$@"; do echo "$opt" >>"$d/postgresql.conf"; done
    as_postgres "$PGBIN/pg_ctl" -D "$d" -l "$d/log" -w start >/dev/null || { tail -20 "$d/log"; return 1; }
  done
  [ -n "${CLUSTER_PLAIN:-}" ] && return 0
  for ((i = 0; i <= workers; i++)); do
    node_sql "$i" -c 'CREATE EXTENSION citus' >/dev/null || return 1
  done
  for ((i = 1; i <= workers; i++)); do
    node_sql 0 -c "SELECT citus_set_coordinator_host('127.0.0.1', ${NODE_PORTS[0]})" >/dev/null 2>&1
    node_sql 0 -c "SELECT citus_add_node('127.0.0.1', ${NODE_PORTS[$i]})" >/dev/null || return 1
  done
}

# node_sql N psql-args...: psql to node N (0 = coordinator) as postgres, database postgres.
node_sql() {
  local n=$1; shift
  "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${NODE_PORTS[$n]}" -U postgres -d postgres -At "$@"
}
