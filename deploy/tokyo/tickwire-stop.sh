#!/usr/bin/env bash
# ExecStop of tickwire@.service: trigger the engine's kill switch and wait until every open order is cancelled,
# before systemd sends SIGTERM. Usage: tickwire-stop.sh MAINPID
#
# 1. `tickwire kill --wait` on the loopback control plane (token: TICKWIRE_CONTROL_TOKEN from the environment file):
#    blocks new orders, cancels all (algo orders too), returns when the cancels are acknowledged.
# 2. If the control plane does not answer: create the kill file (TICKWIRE_KILL_FILE, watched by the engine) and wait
#    for the process to exit, up to TICKWIRE_KILL_TIMEOUT_S.
# 3. Either way exit 0 so systemd goes on to SIGTERM (graceful stop) and, past TimeoutStopSec, SIGKILL.
# After a crash MAINPID is empty: there is nothing to signal; the next start reconciles open orders with the
# exchange (and the exchange-side dead-man switch, if configured, has already cancelled them).
set -uo pipefail

MAINPID="${1:-${MAINPID:-}}"
SITE="${TICKWIRE_SITE:-tokyo}"
HOME_DIR="${TICKWIRE_HOME:-/opt/tickwire}"
NODE="${TICKWIRE_NODE:-node}"
TIMEOUT="${TICKWIRE_KILL_TIMEOUT_S:-30}"
KILL_FILE="${TICKWIRE_KILL_FILE:-/run/tickwire-$SITE/KILL}"

say() { echo "tickwire-stop[$SITE]: $*" >&2; }

if [ -z "$MAINPID" ] || ! kill -0 "$MAINPID" 2>/dev/null; then
  say "engine not running (crashed or already stopped); open orders are reconciled at the next start"
  exit 0
fi

if [ -z "${TICKWIRE_CONTROL_TOKEN:-}" ]; then
  say "TICKWIRE_CONTROL_TOKEN not set; skipping the control plane"
elif timeout "$((TIMEOUT + 5))" "$NODE" "$HOME_DIR/bin/tickwire.js" kill --wait; then
  say "kill switch acknowledged: orders cancelled"
  exit 0
else
  say "control plane kill failed (rc=$?); falling back to the kill file $KILL_FILE"
fi

if touch "$KILL_FILE" 2>/dev/null; then
  for _ in $(seq 1 "$((TIMEOUT * 10))"); do
    kill -0 "$MAINPID" 2>/dev/null || { say "engine exited after the kill file"; exit 0; }
    sleep 0.1
  done
  say "engine still running after ${TIMEOUT} s; systemd will SIGTERM it (second signal = kill switch)"
else
  say "cannot create $KILL_FILE; systemd will SIGTERM the engine"
fi
exit 0
