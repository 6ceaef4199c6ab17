#!/usr/bin/env bash
# Token endpoint benchmark: builds the release binary and the ceiling
# (examples/ceiling.rs: the ideal token endpoint, Basic auth + an HMAC check + a
# fresh ES256 JWT), then in one run drives POST /connect/token
# (client_secret_basic) and the ceiling with wrk and prints one table: req/s,
# p50, p99, the ratio to the ceiling and Latchkey's peak RSS (VmHWM) per row.
#
# Rows (ROWS, comma-separated; default all):
#   ceiling        the ideal endpoint
#   sqlite-hot     SQLite, one hot client (SEED_CLIENTS=10 seeded)
#   sqlite-spread  SQLite, load over LOAD_CLIENTS (1000) clients
#   sqlite-large   SQLite, LARGE_CLIENTS (100000) seeded, load over LOAD_CLIENTS
#   pg-spread      PostgreSQL strict, load over LOAD_CLIENTS clients
#   pg-large       PostgreSQL strict, LARGE_CLIENTS seeded, load over LOAD_CLIENTS
#   pg-cached      PostgreSQL, database.credentialCache: cached, load over LOAD_CLIENTS
#   supplied       SQLite, one client presenting a supplied (Argon2id) secret
# SKIP_POSTGRES=1 drops the pg-* rows, LARGE_CLIENTS=0 the *-large ones.
#
# PostgreSQL: BENCH_DATABASE_URL (an administrative URL; a fresh database is made
# per row and dropped after) when set; else a throwaway cluster under
# target/bench-pg (initdb from /usr/lib/postgresql/*/bin, as the postgres user
# when run as root, 127.0.0.1 on a free port), pinned to the server's core so a
# figure is the whole server side on one core, and stopped at exit.
#
# The server inherits the environment: LATCHKEY_METRICS__ENABLED=false measures
# the token path without metrics.
# Other knobs: CONNS (64), DURATION_S (10), WARMUP_S (3), SERVER_CPUS (1),
# LOAD_CPUS (0), THREADS (16, parallel seeding requests), SKIP_BUILD=1.
# Loopback only; every wait is bounded; everything it makes is under target/ or
# a temporary directory and goes at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS="${CONNS:-64}"; DURATION_S="${DURATION_S:-10}"; WARMUP_S="${WARMUP_S:-3}"
SEED_CLIENTS="${SEED_CLIENTS:-10}"; LOAD_CLIENTS="${LOAD_CLIENTS:-1000}"
LARGE_CLIENTS="${LARGE_CLIENTS:-100000}"
SERVER_CPUS="${SERVER_CPUS:-1}"; LOAD_CPUS="${LOAD_CPUS:-0}"
ROWS="${ROWS:-ceiling,sqlite-hot,sqlite-spread,sqlite-large,pg-spread,pg-large,pg-cached,supplied}"
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
want() {
  case "$1" in pg-*) [ "${SKIP_POSTGRES:-0}" != 1 ] || return 1 ;; esac
  case "$1" in *-large) [ "$LARGE_CLIENTS" -gt 0 ] || return 1 ;; esac
  [[ ",$ROWS," == *",$1,"* ]]
}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building release binaries"
  cargo build --release -q --bin latchkey --example ceiling
fi
BIN="$PWD/target/release/latchkey"; CEILING="$PWD/target/release/examples/ceiling"
work=$(mktemp -d); pids=(); pg_data=""; pg_ctl=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$pg_data" ]; then
    as_pg "$pg_ctl" -D "$pg_data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    rm -rf "$(dirname "$pg_data")"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 300); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done; log "no answer from $1"; return 1; }
peak_rss_mib() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
# Stops one server we started: TERM, then KILL after 5 s.
stop() {
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
}

# CPU time (clock ticks) used so far by processes and their descendants, the
# reaped ones included (a PostgreSQL server's ended backends).
jiffies() {
  local total=0 p k
  for p in "$@"; do
    total=$(( total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat" 2>/dev/null || echo 0) ))
    for k in $(pgrep -P "$p" 2>/dev/null || true); do total=$(( total + $(jiffies "$k") )); done
  done
  echo "$total"
}

# load URL BASIC BASIC_FILE PID...: warm-up, then the measured run; prints
# "rps p50 p99 non2xx errors cpu_us": cpu_us is the server side's CPU time per
# request (the PIDs and their children), steadier than req/s on a busy machine.
load() {
  local url="$1"; export BENCH_BASIC="$2" BENCH_BASIC_FILE="$3"; shift 3
  taskset -c "$LOAD_CPUS" wrk -t1 -c"$CONNS" -d"${WARMUP_S}s" --timeout 30s -s bench/token.lua "$url" >/dev/null 2>&1 || true
  local before after out; before=$(jiffies "$@")
  out=$(taskset -c "$LOAD_CPUS" wrk -t1 -c"$CONNS" -d"${DURATION_S}s" --timeout 30s -s bench/token.lua "$url")
  after=$(jiffies "$@")
  sed -n 's/^RESULT rps=\([0-9.]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\) non2xx=\([0-9]*\) errors=\([0-9]*\) requests=\([0-9]*\).*/\1 \2 \3 \4 \5 \6/p' <<<"$out" \
    | awk -v j=$(( after - before )) -v hz="$(getconf CLK_TCK)" '{ printf "%s %s %s %s %s %.0f\n", $1, $2, $3, $4, $5, ($6 > 0) ? j * 1e6 / hz / $6 : 0 }'
}

# The PostgreSQL administrative URL: BENCH_DATABASE_URL, or a throwaway cluster.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_admin=""
start_postgres() {
  if [ -n "${BENCH_DATABASE_URL:-}" ]; then
    pg_admin="$BENCH_DATABASE_URL"
    log "PostgreSQL: $pg_admin (pin its server to core $SERVER_CPUS yourself for comparable figures)"
    return
  fi
  local bindir; bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  if [ -z "$bindir" ]; then
    log "installing postgresql from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  fi
  pg_ctl="$bindir/pg_ctl"
  local root; root="$PWD/target/bench-pg"; rm -rf "$root"; mkdir -p "$root"
  pg_data="$root/data"
  [ "$(id -u)" != 0 ] || chown postgres: "$root"
  as_pg "$bindir/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 >"$root/initdb.log" 2>&1 \
    || { cat "$root/initdb.log" >&2; return 1; }
  local port; port=$(free_port)
  as_pg taskset -c "$SERVER_CPUS" "$pg_ctl" -D "$pg_data" -l "$root/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$root -c max_connections=200" \
    start >/dev/null
  pg_admin="postgres://postgres@127.0.0.1:$port/postgres"
  log "PostgreSQL: throwaway cluster on 127.0.0.1:$port pinned to core $SERVER_CPUS"
}

# row NAME DATABASE(sqlite|postgres) CLIENTS LOAD_CLIENTS KIND [ENV=VALUE...]:
# a fresh server and database, seeded through the API, then measured; prints
# "rps p50 p99 non2xx errors cpu_us rss first_start_rss seed_seconds seeded_rss".
row() {
  local name="$1" db="$2" n="$3" k="$4" kind="$5"; shift 5
  local dir="$work/$name" port boot url fresh=""
  mkdir -p "$dir"; port=$(free_port); boot="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  if [ "$db" = postgres ]; then
    fresh="latchkey_bench_${name//-/_}_$$"
    psql -q "$pg_admin" -c "CREATE DATABASE $fresh" >/dev/null
    url="${pg_admin%/*}/$fresh"
  else
    url="sqlite://$dir/latchkey.db"
  fi
  env "$@" LATCHKEY_BOOTSTRAP_TOKEN="$boot" LATCHKEY_LOG=warn RUST_LOG=warn \
    LATCHKEY_MASTER_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    LATCHKEY_TENANTS__CLIENTSMAX=$((n + 10)) taskset -c "$SERVER_CPUS" "$BIN" serve \
    --listen "127.0.0.1:$port" --database "$url" --public-url "http://127.0.0.1:$port" \
    >"$dir/server.log" 2>&1 & local pid=$!
  pids+=("$pid")
  wait_up "http://127.0.0.1:$port/healthz" || { tail -n 20 "$dir/server.log" >&2; return 1; }
  local first_rss; first_rss=$(peak_rss_mib "$pid")
  log "$name: seeding $n clients"
  local tid basic seed_s
  read -r tid basic seed_s < <(THREADS="${THREADS:-16}" taskset -c "$LOAD_CPUS" \
    python3 bench/seed.py "$port" "$boot" "$n" "$k" "$dir/basic.txt" "$kind")
  local seeded_rss; seeded_rss=$(peak_rss_mib "$pid")
  log "$name: seeded $n clients in ${seed_s}s (peak RSS so far ${seeded_rss}M)"
  if [ -n "$fresh" ]; then
    # Steady state, as on a server that has run a while: without this, the
    # autovacuum and checkpoint that follow a bulk insert run during the
    # measurement and count as server-side CPU.
    psql -q "$url" -c "VACUUM (ANALYZE)" >/dev/null
    psql -q "$url" -c "CHECKPOINT" >/dev/null 2>&1 || true
  fi
  local token="http://127.0.0.1:$port/identity/$tid/connect/token"
  curl -sf --max-time 30 -H "Authorization: Basic $basic" -d grant_type=client_credentials "$token" >/dev/null \
    || { log "$name: token request failed"; tail -n 20 "$dir/server.log" >&2; return 1; }
  log "$name: measuring (load over $k client(s))"
  local r file="" pg_pid=""; [ "$k" -le 1 ] || file="$dir/basic.txt"
  [ "$db" != postgres ] || [ -z "$pg_data" ] || pg_pid=$(head -n1 "$pg_data/postmaster.pid")
  r=$(load "$token" "$basic" "$file" "$pid" $pg_pid)
  echo "$r $(peak_rss_mib "$pid") $first_rss $seed_s $seeded_rss"
  stop "$pid"
  [ -z "$fresh" ] || psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $fresh" >/dev/null 2>&1 || true
}

declare -A label=(
  [ceiling]="ceiling (Basic+HMAC+ES256 JWT)"
  [sqlite-hot]="SQLite, 1 hot client ($SEED_CLIENTS seeded)"
  [sqlite-spread]="SQLite, over $LOAD_CLIENTS clients"
  [sqlite-large]="SQLite, $LARGE_CLIENTS seeded, over $LOAD_CLIENTS"
  [pg-spread]="PostgreSQL strict, over $LOAD_CLIENTS"
  [pg-large]="PostgreSQL strict, $LARGE_CLIENTS seeded"
  [pg-cached]="PostgreSQL cached, over $LOAD_CLIENTS"
  [supplied]="SQLite, supplied secret, 1 client"
)
declare -A result=()
notes=()

if want ceiling; then
  port=$(free_port)
  taskset -c "$SERVER_CPUS" "$CEILING" "127.0.0.1:$port" >/dev/null & pids+=($!)
  wait_up "http://127.0.0.1:$port/healthz"
  log "ceiling: measuring"
  basic=$(printf '%s' "bench-client:lk_bench_7Qw3Zr9Xy2Lm5Np8Tv4Bc6Df1Gh0Jk3Mn7Pq9Rs2Uv5Wx8Yz" | base64 -w0)
  curl -sf --max-time 10 -H "Authorization: Basic $basic" -d grant_type=client_credentials \
    "http://127.0.0.1:$port/token" >/dev/null || { log "ceiling: token request failed"; exit 1; }
  read -r c_rps c_p50 c_p99 c_bad c_err c_cpu < <(load "http://127.0.0.1:$port/token" "$basic" "" "${pids[-1]}")
  result[ceiling]="$c_rps $c_p50 $c_p99 $c_bad $c_err $c_cpu - - - -"
  stop "${pids[-1]}"
fi
for r in pg-spread pg-large pg-cached; do want "$r" && { start_postgres; break; }; done

for name in sqlite-hot sqlite-spread sqlite-large pg-spread pg-large pg-cached supplied; do
  want "$name" || continue
  case "$name" in
    sqlite-hot) row "$name" sqlite "$SEED_CLIENTS" 1 generated ;;
    sqlite-spread) row "$name" sqlite "$LOAD_CLIENTS" "$LOAD_CLIENTS" generated ;;
    sqlite-large) row "$name" sqlite "$LARGE_CLIENTS" "$LOAD_CLIENTS" generated ;;
    pg-spread) row "$name" postgres "$LOAD_CLIENTS" "$LOAD_CLIENTS" generated ;;
    pg-large) row "$name" postgres "$LARGE_CLIENTS" "$LOAD_CLIENTS" generated ;;
    pg-cached) row "$name" postgres "$LOAD_CLIENTS" "$LOAD_CLIENTS" generated \
      LATCHKEY_DATABASE__CREDENTIALCACHE=cached ;;
    supplied) row "$name" sqlite "$SEED_CLIENTS" 1 supplied ;;
  esac >"$work/$name.result"
  result[$name]=$(cat "$work/$name.result")
done

printf '\n%-40s %9s %8s %8s %7s %9s %9s\n' "row" "req/s" "p50 ms" "p99 ms" "x ceil" "CPU us/r" "peak RSS"
c_rps=$(cut -d' ' -f1 <<<"${result[ceiling]:-0}")
for name in ceiling sqlite-hot sqlite-spread sqlite-large pg-spread pg-large pg-cached supplied; do
  [ -n "${result[$name]:-}" ] || continue
  read -r rps p50 p99 bad err cpu rss first seed seeded <<<"${result[$name]}"
  rss_col="-"; [ "$rss" = - ] || rss_col="${rss}M"
  x="-"; [ "$c_rps" = 0 ] || x=$(ratio "$rps" "$c_rps")
  printf '%-40s %9s %8s %8s %7s %9s %9s\n' "${label[$name]}" "$rps" "$p50" "$p99" "$x" "$cpu" "$rss_col"
  [ "$bad" = 0 ] && [ "$err" = 0 ] || notes+=("WARNING ${label[$name]}: $bad non-2xx responses, $err socket errors")
  [ "$seed" = - ] || [ "$name" = ceiling ] || [[ "$name" != *-large ]] || notes+=("${label[$name]}: seeding through the API took ${seed}s (peak RSS by then ${seeded}M)")
  [ "$name" != sqlite-hot ] || notes+=("first start on a fresh SQLite database (console bootstrap included): peak RSS ${first}M")
done
scale() {
  [ -n "${result[$2]:-}" ] && [ -n "${result[$3]:-}" ] || return 0
  local a b; read -r -a a <<<"${result[$2]}"; read -r -a b <<<"${result[$3]}"
  notes+=("$1, $LARGE_CLIENTS seeded vs $LOAD_CLIENTS: req/s x$(ratio "${b[0]}" "${a[0]}"), CPU per request x$(ratio "${b[5]}" "${a[5]}") (within 10 %: req/s >= 0.90, CPU <= 1.10)")
}
scale SQLite sqlite-spread sqlite-large
scale PostgreSQL pg-spread pg-large
printf '%s\n' "${notes[@]}"
printf 'run: %s, %s, %s core(s), server on core %s, wrk on core %s, %s connections, %ss\n' \
  "$(date -u +%Y-%m-%d)" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc)" "$SERVER_CPUS" "$LOAD_CPUS" "$CONNS" "$DURATION_S"
