#!/usr/bin/env bash
# Prints the path of the tests' Python interpreter: it runs aiosmtpd 1.4.6, the SMTP server the
# email tests start on loopback (tests/support/smtp.rs), openapi-spec-validator 0.7.1, the
# independent check of the OpenAPI document (tests/api/openapi.rs), and openapi-python-client
# 0.29.1 with python-dateutil 2.9.0.post0, which generate and run a client from the document
# (tests/api/generated_client.rs). Creates it once, as a virtualenv cached in target/test-venv;
# later runs only check it, and install into it what a cached one lacks (a new pin).
#
#   LATCHKEY_TEST_SMTP_PYTHON="$(bash scripts/smtp-venv.sh)" cargo nextest run --lib notify
#
# scripts/test.sh calls it. Progress goes to stderr; stdout carries only the path.
#
# Which python: Debian's /usr/bin/python3 first, then the first python3 on PATH, each only if
# it can create a virtualenv (`venv` and `ensurepip` importable: Debian ships ensurepip in
# python3-venv). With none, as root, it installs python3-venv (which brings python3) with
# apt-get. aiosmtpd comes from PyPI into the venv, never into a system interpreter
# (the first python3 on PATH may be another interpreter than Debian's, which alone sees
# Debian's python3-aiosmtpd).
set -euo pipefail

cd "$(dirname "$0")/.."

AIOSMTPD_VERSION=1.4.6
VALIDATOR_VERSION=0.7.1
GENERATOR_VERSION=0.29.1
DATEUTIL_VERSION=2.9.0.post0
PINS=(
    "aiosmtpd==$AIOSMTPD_VERSION"
    "openapi-spec-validator==$VALIDATOR_VERSION"
    "openapi-python-client==$GENERATOR_VERSION"
    "python-dateutil==$DATEUTIL_VERSION"
)
# What the tests import (the generated client needs httpx and attrs, which the generator brings).
IMPORTS='import aiosmtpd.smtp, openapi_spec_validator, openapi_python_client, dateutil, httpx, attrs'
VENV="$PWD/target/test-venv"
MARKER="$VENV/.aiosmtpd-$AIOSMTPD_VERSION-validator-$VALIDATOR_VERSION-generator-$GENERATOR_VERSION-dateutil-$DATEUTIL_VERSION"

log() { printf '==> %s\n' "$*" >&2; }

venv_ok() {
    [ -f "$MARKER" ] && [ -x "$VENV/bin/python" ] &&
        "$VENV/bin/python" -c "$IMPORTS" >/dev/null 2>&1
}

pip_install() {
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${PINS[@]}" >&2
}

# A cached virtualenv from before a pin was added: install the pins into it (pip leaves
# what already matches) rather than building it again.
if ! venv_ok && [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    log "updating the test virtualenv in $VENV (${PINS[*]})"
    if pip_install && "$VENV/bin/python" -c "$IMPORTS" >&2; then
        rm -f "$VENV"/.aiosmtpd-*
        touch "$MARKER"
    fi
fi

can_make_venv() { "$1" -c 'import venv, ensurepip' >/dev/null 2>&1; }

find_python() {
    local candidate
    for candidate in /usr/bin/python3 "$(command -v python3 || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && can_make_venv "$candidate"; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! venv_ok; then
    if ! PYTHON="$(find_python)"; then
        if [ "$(id -u)" -ne 0 ]; then
            log "no python3 that can create a virtualenv; run as root or: apt-get install python3-venv"
            exit 1
        fi
        log "installing python3-venv"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update >&2
        apt-get install -y --no-install-recommends python3-venv >&2
        PYTHON="$(find_python)" || {
            log "python3-venv is installed but no python3 can create a virtualenv"
            exit 1
        }
    fi
    log "creating the test virtualenv in $VENV with $PYTHON (${PINS[*]} from PyPI)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" >&2
    pip_install
    "$VENV/bin/python" -c "$IMPORTS" >&2
    touch "$MARKER"
fi

echo "$VENV/bin/python"
