#!/usr/bin/env bash
# tickwire launcher: restart backoff, host check hints, CPU pinning with taskset, Node flags. ExecStart of
# tickwire@.service; also usable by hand (TICKWIRE_DRY_RUN=1 prints the command instead of running it).
#
# Environment (from /etc/tickwire/<site>.env; see tickwire.env.example):
#   TICKWIRE_CORES          trading core(s) for taskset -c, e.g. 2 or 2,3 (required; must lie inside CPUAffinity)
#   TICKWIRE_CONFIG         engine config file (default /etc/tickwire/<site>.json)
#   TICKWIRE_HEAP_MB        V8 old-space cap in MB (default 2048; MemoryMax in the unit is the hard ceiling)
#   TICKWIRE_SEMI_SPACE_MB  V8 young-generation semi-space in MB (default 64)
#   TICKWIRE_NODE           node binary (default: node on PATH)
#   TICKWIRE_HOME           install root (default /opt/tickwire)
#   TICKWIRE_EXTRA_ARGS     appended to `tickwire run`
#   STATE_DIRECTORY         set by systemd (StateDirectory=); holds the restart backoff state
#
# Node flags and why:
#   --max-semi-space-size / --min-semi-space-size: a young generation of 64 MB (default 16 MB) makes scavenges ~4x
#       rarer; a scavenge is ~1-1.5 ms here (shared/perf-notes.md) and sets the p99.9. Starting at full size avoids
#       the growth phase (and its extra scavenges) in the first minutes of trading.
#   --single-threaded-gc: all GC work on the main thread. The process is pinned to one core, so V8's parallel
#       and concurrent GC helper threads would only time-slice that same core against the event loop.
#   --max-old-space-size: fail fast (and restart) on a leak instead of growing into MemoryMax.
#   --unhandled-rejections=strict: an unhandled rejection is a crash (and a restart with reconciliation), not a
#       warning that leaves the engine in an unknown state.
#   --disable-proto=delete: removes Object.prototype.__proto__ (prototype-pollution hardening, free at runtime).
#   UV_THREADPOOL_SIZE=2: the libuv pool only serves fs (journal fsync) and dns here; 4 idle threads on a pinned
#       core are just more to schedule.
# Not used: --jitless (10x slower), --expose-gc (no manual GC on the hot path), --use-largepages (needs THP for
#   .text; try it and measure: TICKWIRE_EXTRA_NODE_FLAGS=--use-largepages=silent).
set -euo pipefail

SITE="${TICKWIRE_SITE:-tokyo}"
HOME_DIR="${TICKWIRE_HOME:-/opt/tickwire}"
NODE="${TICKWIRE_NODE:-node}"
CONFIG="${TICKWIRE_CONFIG:-/etc/tickwire/$SITE.json}"
HEAP_MB="${TICKWIRE_HEAP_MB:-2048}"
SEMI_MB="${TICKWIRE_SEMI_SPACE_MB:-64}"
STATE="${STATE_DIRECTORY:-/var/lib/tickwire/$SITE}"

die() { echo "tickwire-launch: $*" >&2; exit 78; } # 78 = EX_CONFIG: systemd shows it, Restart=on-failure retries

[ -n "${TICKWIRE_CORES:-}" ] || die "TICKWIRE_CORES is not set (the trading core(s), e.g. 2); see /etc/tickwire/$SITE.env"
[[ "$TICKWIRE_CORES" =~ ^[0-9]+([,-][0-9]+)*$ ]] || die "TICKWIRE_CORES='$TICKWIRE_CORES' is not a CPU list like 2 or 2,3"
[[ "$HEAP_MB" =~ ^[0-9]+$ ]] || die "TICKWIRE_HEAP_MB='$HEAP_MB' is not a number of MB"
[[ "$SEMI_MB" =~ ^[0-9]+$ ]] || die "TICKWIRE_SEMI_SPACE_MB='$SEMI_MB' is not a number of MB"
command -v taskset >/dev/null || die "taskset not found (apt-get install util-linux)"

# --- restart backoff (systemd 252 has no RestartSteps=) ---------------------------------------------------------
# A start within 10 minutes of the previous one doubles the delay (5 s, 10 s, ... 300 s); a calm period resets it.
backoff() {
  local f="$STATE/restart-backoff" now last=0 delay=0
  now="$(date +%s)"
  if [ -r "$f" ]; then read -r last delay <"$f" || true; fi
  [[ "$last" =~ ^[0-9]+$ ]] || last=0
  [[ "$delay" =~ ^[0-9]+$ ]] || delay=0
  if [ $((now - last)) -lt 600 ]; then
    delay=$((delay == 0 ? 5 : delay * 2))
    [ "$delay" -le 300 ] || delay=300
  else
    delay=0
  fi
  mkdir -p "$STATE" 2>/dev/null || true
  printf '%s %s\n' "$((now + delay))" "$delay" >"$f" 2>/dev/null || true
  if [ "$delay" -gt 0 ]; then
    echo "tickwire-launch: previous start was $((now - last)) s ago; backing off ${delay} s before starting" >&2
    [ -n "${TICKWIRE_DRY_RUN:-}" ] || sleep "$delay"
  fi
}

ENTRY="$HOME_DIR/bin/tickwire.js"
NODE_FLAGS=(
  "--max-semi-space-size=$SEMI_MB"
  "--min-semi-space-size=$SEMI_MB"
  --single-threaded-gc
  "--max-old-space-size=$HEAP_MB"
  --unhandled-rejections=strict
  --disable-proto=delete
)
# shellcheck disable=SC2206 # intentional word splitting of operator-supplied extra flags/args
EXTRA_NODE=(${TICKWIRE_EXTRA_NODE_FLAGS:-})
# shellcheck disable=SC2206
EXTRA_ARGS=(${TICKWIRE_EXTRA_ARGS:-})
CMD=(taskset -c "$TICKWIRE_CORES" "$NODE" "${NODE_FLAGS[@]}" "${EXTRA_NODE[@]}" "$ENTRY" run --config "$CONFIG" "${EXTRA_ARGS[@]}")

if [ -n "${TICKWIRE_DRY_RUN:-}" ]; then
  backoff
  printf '%q ' UV_THREADPOOL_SIZE=2 "${CMD[@]}"
  echo
  exit 0
fi

[ -r "$CONFIG" ] || die "config $CONFIG not readable by $(id -un)"
[ -r "$ENTRY" ] || die "$ENTRY missing: build and install a release into $HOME_DIR first (README: first deploy)"
backoff
export UV_THREADPOOL_SIZE=2
echo "tickwire-launch: site=$SITE cores=$TICKWIRE_CORES heap=${HEAP_MB}MB semi=${SEMI_MB}MB config=$CONFIG" >&2
exec "${CMD[@]}"
