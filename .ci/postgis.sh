#!/usr/bin/env bash
# A throw-away PostGIS server for the tests of klimakort.sites (idempotent).
#
# Installs PostgreSQL 15 + PostGIS 3 from Debian when missing (needs root; apt-get update
# only when the package is unknown), starts a private server on a free port (from 55432)
# with its data under /tmp, creates the database klimakort_test with the postgis
# extension, and prints ONE line on stdout:
#
#     KLIMAKORT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:PORT/klimakort_test
#
# so that `eval "$(bash .ci/postgis.sh)"; export KLIMAKORT_TEST_DATABASE_URL` sets it up.
# Everything else goes to stderr. A second run reuses the running server.
# Environment: KLIMAKORT_PG_PORT (first port to try, default 55432),
# KLIMAKORT_PG_ROOT (folder of the data dirs, default /tmp).
set -euo pipefail

PG_VERSION=15
PORT0="${KLIMAKORT_PG_PORT:-55432}"
ROOT="${KLIMAKORT_PG_ROOT:-/tmp}"
DB=klimakort_test
BIN="/usr/lib/postgresql/${PG_VERSION}/bin"
POSTGIS_CONTROL="/usr/share/postgresql/${PG_VERSION}/extension/postgis.control"

log() { echo "postgis.sh: $*" >&2; }

install_packages() {
    if [[ -x "${BIN}/postgres" && -f "${POSTGIS_CONTROL}" ]]; then
        return
    fi
    if [[ "$(id -u)" != 0 ]]; then
        log "PostgreSQL ${PG_VERSION} with PostGIS 3 is missing; run this script as root" \
            "(or: apt-get install postgresql postgresql-${PG_VERSION}-postgis-3)"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-cache show "postgresql-${PG_VERSION}-postgis-3" >/dev/null 2>&1; then
        log "apt-get update"
        apt-get update -qq >&2
    fi
    log "installing postgresql postgresql-${PG_VERSION}-postgis-3"
    apt-get install -y -qq --no-install-recommends \
        postgresql "postgresql-${PG_VERSION}-postgis-3" >&2
}

# run a command as the server's owner: postgres when we are root, else ourselves
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

port_in_use() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start (or reuse) a server whose data dir belongs to port $1; fails if the port is taken
start_server() {
    local port=$1 data="${ROOT}/klimakort-postgis-$1"
    if [[ -f "${data}/PG_VERSION" ]] && as_owner "${BIN}/pg_ctl" -D "${data}" status >/dev/null 2>&1; then
        log "reusing the server in ${data} (port ${port})"
        return 0
    fi
    if port_in_use "${port}"; then
        return 1
    fi
    if [[ ! -f "${data}/PG_VERSION" ]]; then
        rm -rf "${data}"
        mkdir -p "${data}"
        [[ "$(id -u)" == 0 ]] && chown postgres: "${data}"
        chmod 700 "${data}"
        log "initdb ${data}"
        as_owner "${BIN}/initdb" -D "${data}" -U postgres --auth=trust -E UTF8 \
            --locale=C.UTF-8 >/dev/null
    fi
    log "starting the server on 127.0.0.1:${port}"
    as_owner "${BIN}/pg_ctl" -D "${data}" -l "${data}/server.log" -w -t 60 start -o \
        "-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${data} \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c shared_buffers=32MB -c max_connections=100" >/dev/null
}

install_packages

port=""
for candidate in $(seq "${PORT0}" $((PORT0 + 20))); do
    if start_server "${candidate}"; then
        port="${candidate}"
        break
    fi
    log "port ${candidate} is taken, trying the next one"
done
if [[ -z "${port}" ]]; then
    log "no free port in ${PORT0}..$((PORT0 + 20)); set KLIMAKORT_PG_PORT"
    exit 1
fi

psql_() { as_owner env PGOPTIONS="-c client_min_messages=warning" "${BIN}/psql" -h 127.0.0.1 -p "${port}" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

if [[ "$(psql_ -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '${DB}'")" != 1 ]]; then
    log "creating database ${DB}"
    psql_ -d postgres -c "CREATE DATABASE ${DB}" >/dev/null
fi
psql_ -d "${DB}" -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
log "PostGIS $(psql_ -d "${DB}" -c 'SELECT postgis_lib_version()') ready on port ${port}"

echo "KLIMAKORT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:${port}/${DB}"
