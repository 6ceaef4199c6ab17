#!/usr/bin/env bash
# Token endpoint benchmark (issue 3): builds the release binary and the ceiling
# (examples/ceiling.rs: bare axum returning a fixed token-sized JSON), then in
# one run drives POST /connect/token (client_secret_basic, generated secret,
# SQLite) and the ceiling with wrk, and prints req/s, p50, p99, the ratio to the
# ceiling and Latchkey's peak RSS. It repeats the Latchkey run with LARGE_CLIENTS
# clients seeded to show throughput does not depend on the number of clients.
#
# Knobs: CONNS (64), DURATION_S (10), WARMUP_S (3), SEED_CLIENTS (10),
# LARGE_CLIENTS (100000; 0 skips), SERVER_CPUS (1), LOAD_CPUS (0).
# Server and wrk are pinned to separate cores. Loopback only; every run is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS="${CONNS:-64}"; DURATION_S="${DURATION_S:-10}"; WARMUP_S="${WARMUP_S:-3}"
SEED_CLIENTS="${SEED_CLIENTS:-10}"; LARGE_CLIENTS="${LARGE_CLIENTS:-100000}"
SERVER_CPUS="${SERVER_CPUS:-1}"; LOAD_CPUS="${LOAD_CPUS:-0}"
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
log "building release binaries"
cargo build --release -q --bin latchkey --example ceiling
BIN=target/release/latchkey; CEILING=target/release/examples/ceiling
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 300); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done; log "no answer from $1"; return 1; }
peak_rss_mib() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# load NAME URL BASIC: warm-up, then the measured run; prints "rps p50 p99 non2xx".
load() {
  export BENCH_BASIC="$3"
  taskset -c "$LOAD_CPUS" wrk -t1 -c"$CONNS" -d"${WARMUP_S}s" -s bench/token.lua "$2" >/dev/null 2>&1 || true
  local out; out=$(taskset -c "$LOAD_CPUS" wrk -t1 -c"$CONNS" -d"${DURATION_S}s" -s bench/token.lua "$2")
  sed -n 's/^RESULT rps=\([0-9.]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\) non2xx=\([0-9]*\).*/\1 \2 \3 \4/p' <<<"$out"
}

# The ceiling.
port=$(free_port)
taskset -c "$SERVER_CPUS" "$CEILING" "127.0.0.1:$port" >/dev/null & pids+=($!)
wait_up "http://127.0.0.1:$port/token" || true
log "ceiling: measuring"
read -r c_rps c_p50 c_p99 _ < <(load ceiling "http://127.0.0.1:$port/token" "")
kill "${pids[-1]}"

# Latchkey with N clients seeded through the public API; prints "rps p50 p99 non2xx rss".
latchkey_run() {
  local n="$1" dir="$work/db-$1" port boot
  mkdir -p "$dir"; port=$(free_port); boot="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  LATCHKEY_BOOTSTRAP_TOKEN="$boot" LATCHKEY_LOG=warn LATCHKEY_TENANTS__CLIENTSMAX=$((n + 10)) taskset -c "$SERVER_CPUS" "$BIN" serve \
    --listen "127.0.0.1:$port" --database "sqlite://$dir/latchkey.db" >"$dir/server.log" 2>&1 & local pid=$!
  pids+=("$pid")
  wait_up "http://127.0.0.1:$port/healthz"
  log "latchkey: seeding $n clients"
  read -r tid basic < <(python3 - "$port" "$boot" "$n" <<'PY'
import base64, json, sys, urllib.parse, urllib.request
from concurrent.futures import ThreadPoolExecutor
port, boot, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = f"http://127.0.0.1:{port}/api/v1"
def post(url, body):
    req = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + boot, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())
tid = post(base + "/Tenants", {"Name": "bench"})["Id"]
url = f"{base}/Tenants/{tid}/ClientCredentialClients"
first = post(url, {"Id": "bench-0", "Name": "bench-0", "RoleIds": ["tenant-member"]})
with ThreadPoolExecutor(8) as ex:
    list(ex.map(lambda i: post(url, {"Id": f"bench-{i}", "Name": f"bench-{i}"}), range(1, n)))
q = urllib.parse.quote
print(tid, base64.b64encode(f"{q('bench-0', safe='')}:{q(first['Secret'], safe='')}".encode()).decode())
PY
)
  local url="http://127.0.0.1:$port/identity/$tid/connect/token"
  curl -sf -H "Authorization: Basic $basic" -d grant_type=client_credentials "$url" >/dev/null \
    || { log "token request failed"; return 1; }
  log "latchkey ($n clients): measuring"
  local r; r=$(load latchkey "$url" "$basic")
  echo "$r $(peak_rss_mib "$pid")"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

read -r l_rps l_p50 l_p99 l_bad l_rss < <(latchkey_run "$SEED_CLIENTS")
printf '\n%-34s %10s %8s %8s %9s %10s\n' "server" "req/s" "p50 ms" "p99 ms" "vs ceil" "peak RSS"
printf '%-34s %10s %8s %8s %9s %10s\n' "axum ceiling (fixed JSON)" "$c_rps" "$c_p50" "$c_p99" "1.00" "-"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
printf '%-34s %10s %8s %8s %9s %9sM\n' "latchkey, $SEED_CLIENTS clients" "$l_rps" "$l_p50" "$l_p99" "$(ratio "$l_rps" "$c_rps")" "$l_rss"
[ "$l_bad" = 0 ] || log "WARNING: $l_bad non-2xx responses in the $SEED_CLIENTS-client run"
if [ "$LARGE_CLIENTS" -gt 0 ]; then
  read -r b_rps b_p50 b_p99 b_bad b_rss < <(latchkey_run "$LARGE_CLIENTS")
  printf '%-34s %10s %8s %8s %9s %9sM\n' "latchkey, $LARGE_CLIENTS clients" "$b_rps" "$b_p50" "$b_p99" "$(ratio "$b_rps" "$c_rps")" "$b_rss"
  printf 'throughput with %s clients / with %s: %s\n' "$LARGE_CLIENTS" "$SEED_CLIENTS" "$(ratio "$b_rps" "$l_rps")"
  [ "$b_bad" = 0 ] || log "WARNING: $b_bad non-2xx responses in the $LARGE_CLIENTS-client run"
fi
