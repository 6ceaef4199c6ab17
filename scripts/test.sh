#!/usr/bin/env bash
# The test command: formatting, the one-crypto-provider check, clippy, then every test on
# SQLite and PostgreSQL (cargo nextest, whose summary line closes the output).
#
#   scripts/test.sh [extra cargo-nextest arguments, e.g. a test filter]
#
# Meant for a fresh Debian 12 with the Rust toolchain and cargo-nextest, run as root (as CI
# does; `CI=true` changes nothing). It installs PostgreSQL, Chromium and chromedriver (for
# the console's browser tests) if missing, starts a throwaway cluster on 127.0.0.1 and a
# free port in a temporary directory, exports
# LATCHKEY_TEST_POSTGRES_URL for the tests, and removes the cluster on exit. It also makes
# (once, cached in target/test-venv) a Python virtualenv with aiosmtpd for the SMTP tests and
# exports LATCHKEY_TEST_SMTP_PYTHON and LATCHKEY_TEST_PYTHON (the same interpreter, which also
# has openapi-spec-validator and openapi-python-client; scripts/smtp-venv.sh; installs
# python3-venv if needed).
# It exits with the tests' status; when the tests pass, any other failed check fails the run.
set -euo pipefail

cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

# --- What the checkout holds before the run -------------------------------------------------
# The run may not leave files behind (it writes only under target/ and /tmp): its end
# compares `git status` with this. On a clean checkout (CI) any entry then fails the run;
# with local edits, only what the run added or changed does.
checkout_status() { git status --porcelain --untracked-files=all 2>/dev/null | sort || true; }
in_work_tree=false
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    in_work_tree=true
    status_before="$(checkout_status)"
fi

# --- Python with aiosmtpd, for the SMTP server the email tests start ---------------------
LATCHKEY_TEST_SMTP_PYTHON="$(bash scripts/smtp-venv.sh)"
LATCHKEY_TEST_PYTHON="$LATCHKEY_TEST_SMTP_PYTHON"
export LATCHKEY_TEST_SMTP_PYTHON LATCHKEY_TEST_PYTHON
log "SMTP test server: LATCHKEY_TEST_SMTP_PYTHON=$LATCHKEY_TEST_SMTP_PYTHON"

# --- PostgreSQL binaries ------------------------------------------------------------------
# Debian puts initdb and pg_ctl in a versioned directory that is not on PATH,
# so find them through the package's file list.
find_initdb() { dpkg -L postgresql-15 2>/dev/null | grep '/bin/initdb$' || true; }

# `apt-get update` runs at most once, before the first install.
apt_updated=false
apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        log "missing Debian packages: $*; run as root or: apt-get install $*"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if [ "$apt_updated" != true ]; then
        apt-get update
        apt_updated=true
    fi
    apt-get install -y --no-install-recommends "$@"
}

INITDB="$(find_initdb)"
if [ -z "$INITDB" ]; then
    log "installing PostgreSQL"
    apt_install postgresql
    INITDB="$(find_initdb)"
fi
PGBIN="$(dirname "$INITDB")"

# --- jq, which the README's walk-through uses (tests/api/readme.rs runs it) ---------------
if ! command -v jq >/dev/null 2>&1; then
    log "installing jq"
    apt_install jq
fi

# --- Chromium for the console's browser tests (tests/console) -----------------------------
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    log "installing Chromium and chromedriver"
    # A font too, so that the screenshots the tests write (docs/screenshots) show text.
    apt_install chromium chromium-driver fonts-dejavu-core
fi

# --- The container image (Dockerfile), where a container engine answers ------------------
# Without one (the usual CI machine) the image's build stage is what the tests below build
# anyway: `cargo build --release --bin latchkey` of this checkout.
if command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; then
    log "building the container image (docker build)"
    docker build --quiet -t latchkey-test-image . >/dev/null
else
    log "no container engine answers: the Dockerfile's image is not built here"
fi

# --- Throwaway cluster --------------------------------------------------------------------
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
PGTMP="$(mktemp -d /tmp/latchkey-pg.XXXXXX)"
PGDATA="$PGTMP/data"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$PGTMP"
    PGUSER_NAME=postgres
    # From inside the temp dir: the postgres user may not be able to read the checkout.
    as_pg() { (cd "$PGTMP" && runuser -u postgres -- "$@"); }
else
    PGUSER_NAME="$(id -un)"
    as_pg() { (cd "$PGTMP" && "$@"); }
fi

cleanup() {
    status=$?
    if [ -f "$PGDATA/postmaster.pid" ]; then
        log "stopping the PostgreSQL cluster"
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PGTMP"
    exit "$status"
}
trap cleanup EXIT

# A TCP port nothing listens on: ask the kernel when python3 is there, else probe with bash.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port tries
    for tries in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    log "found no free port after $tries tries"
    return 1
}

log "creating a PostgreSQL cluster in $PGDATA"
as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U "$PGUSER_NAME" -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$PGTMP/initdb.log" 2>&1 || {
    cat "$PGTMP/initdb.log" >&2
    exit 1
}

# Another process may take the port between the probe and the start: try a few ports.
started=false
for attempt in 1 2 3 4 5; do
    PGPORT="$(free_port)"
    # -w -t 60: pg_ctl returns once the server accepts connections, or fails after 60 s.
    if as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGTMP/postgres.log" -w -t 60 \
        -o "-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGTMP \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
            -c max_connections=300" \
        start >/dev/null; then
        started=true
        break
    fi
    log "PostgreSQL did not start on port $PGPORT (attempt $attempt)"
done
if [ "$started" != true ]; then
    cat "$PGTMP/postgres.log" >&2 || true
    exit 1
fi

# Belt and braces: the server answers on TCP before the tests start (bounded: 30 s).
for _ in $(seq 1 60); do
    if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER_NAME"; then
        break
    fi
    sleep 0.5
done
"$PGBIN/pg_isready" -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER_NAME" >&2

export LATCHKEY_TEST_POSTGRES_URL="postgres://$PGUSER_NAME@127.0.0.1:$PGPORT/postgres"
log "PostgreSQL ready: LATCHKEY_TEST_POSTGRES_URL=$LATCHKEY_TEST_POSTGRES_URL"

# --- Checks and tests ---------------------------------------------------------------------
# Every step runs even when an earlier one fails, so one run reports everything.
failed=()

log "cargo fmt --check"
cargo fmt --check || failed+=("cargo fmt --check")

# One TLS crypto provider (aws-lc-rs): ring must not be linked.
log "checking that ring is not linked"
ring_users="$(cargo tree -e normal -i ring 2>/dev/null || true)"
if [ -n "$ring_users" ]; then
    printf '%s\n' "$ring_users" >&2
    failed+=("ring is linked (second TLS crypto provider)")
fi

# The layering of docs/architecture.md, from the `use` lines (no upward imports, front
# ends never import each other, no import cycle in service/).
log "checking the module layers"
python3 scripts/check-layers.py || failed+=("module layers (scripts/check-layers.py)")

log "cargo clippy"
cargo clippy --all-targets -- -D warnings || failed+=("cargo clippy")

# Unit and integration tests of every target but the benches. nextest prints its
# `Summary [...] N tests run: ...` line last.
log "cargo nextest run"
tests_status=0
cargo nextest run --no-fail-fast --lib --bins --tests --examples "$@" || tests_status=$?
[ "$tests_status" -eq 0 ] || failed+=("cargo nextest run (exit $tests_status)")

# After the tests, so their summary stays the last line of their output.
if [ "$in_work_tree" = true ]; then
    log "checking that the test run left the checkout as it found it"
    left="$(comm -13 <(printf '%s\n' "$status_before") <(checkout_status) | sed '/^$/d')"
    if [ -n "$left" ]; then
        printf '%s\n' "$left" >&2
        failed+=("the test run left files in the checkout: $(printf '%s\n' "$left" | cut -c4- | paste -sd ' ')")
    fi
else
    log "not inside a git work tree: the clean-checkout check is skipped"
fi

if [ "${#failed[@]}" -gt 0 ]; then
    log "FAILED:"
    printf '  - %s\n' "${failed[@]}" >&2
    [ "$tests_status" -ne 0 ] && exit "$tests_status"
    exit 1
fi
log "all checks passed"
exit 0
