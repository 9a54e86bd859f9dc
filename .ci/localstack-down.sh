#!/usr/bin/env bash
# Stop the host-mode LocalStack started by .ci/localstack-up.sh (same QUEUEKIT_LOCALSTACK_DIR / $PWD).
# Sends SIGTERM to its process group (it was started with setsid, so PID == PGID), waits up to
# QUEUEKIT_LOCALSTACK_STOP_TIMEOUT seconds (default 20), then SIGKILLs what is left.
# Exits 0 when nothing is running.
set -euo pipefail

LS_DIR="${QUEUEKIT_LOCALSTACK_DIR:-$PWD/.localstack}"
PID_FILE="$LS_DIR/localstack.pid"
PORT="${QUEUEKIT_LOCALSTACK_PORT:-4566}"
STOP_TIMEOUT="${QUEUEKIT_LOCALSTACK_STOP_TIMEOUT:-20}"

say() { echo "[localstack-down] $*" >&2; }

if [ ! -f "$PID_FILE" ]; then
  say "no PID file at $PID_FILE; nothing to stop"
  if ss -Hltn "sport = :${PORT}" 2>/dev/null | grep -q .; then
    say "warning: port ${PORT} is still in use by a process this script did not start: $(ss -Hltnp "sport = :${PORT}" | tr -s ' ')"
  fi
  exit 0
fi

pid="$(cat "$PID_FILE" 2>/dev/null || true)"
case "$pid" in
  '' | *[!0-9]*) say "PID file $PID_FILE holds no PID ('$pid'); removing it"; rm -f "$PID_FILE"; exit 0 ;;
esac

# Is anything of that process group still there (the leader or any child)?
# Zombies (killed, not yet reaped by their parent) do not count: kill -0 still succeeds on them.
group_alive() { ps -eo pgid=,pid=,stat= | awk -v g="$pid" '($1 == g || $2 == g) && $3 !~ /^Z/ { found = 1 } END { exit !found }'; }

if ! group_alive; then
  say "LocalStack (pid $pid) is not running; removing stale PID file"
  rm -f "$PID_FILE"
  exit 0
fi
# A stale PID file whose PID now belongs to something else: leave that process alone.
if kill -0 "$pid" 2>/dev/null && ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'localstack.runtime.main'; then
  say "PID $pid from $PID_FILE is not LocalStack ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)); removing stale PID file"
  rm -f "$PID_FILE"
  exit 0
fi

say "stopping LocalStack (process group $pid)"
kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true

t0=$SECONDS
while group_alive; do
  if [ $((SECONDS - t0)) -ge "$STOP_TIMEOUT" ]; then
    say "still running after ${STOP_TIMEOUT} s; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do group_alive || break; sleep 0.5; done
    break
  fi
  sleep 0.5
done

if group_alive; then
  say "ERROR: process group $pid survived SIGKILL"
  exit 1
fi
rm -f "$PID_FILE"
say "stopped after $((SECONDS - t0)) s"
