#!/usr/bin/env bash
# Start LocalStack (community runtime, localstack-core) in *host mode*: no Docker, a plain Python
# process in the background, listening on 127.0.0.1 only.
#
#   bash .ci/localstack-up.sh      # install (first time), start, wait until healthy
#   bash .ci/localstack-down.sh    # stop it again
#
# Everything lives under ${QUEUEKIT_LOCALSTACK_DIR:-$PWD/.localstack}:
#   venv/              virtualenv with localstack-core[runtime] (override: QUEUEKIT_LOCALSTACK_VENV)
#   fs/                LocalStack FILESYSTEM_ROOT (state, cache, tmp)
#   localstack.log     runtime log (previous run's log is kept as localstack.log.1)
#   localstack.pid     PID of the runtime; it is started with setsid, so PID == process group id
#
# Tunables (all optional):
#   QUEUEKIT_LOCALSTACK_PORT      gateway port on 127.0.0.1 (default 4566)
#   QUEUEKIT_LOCALSTACK_SERVICES  comma list for SERVICES (default below)
#   QUEUEKIT_LOCALSTACK_TIMEOUT   seconds to wait for health (default 120)
#   Any other LocalStack config variable (DEBUG=1, ...) set in the caller's environment is passed through.
#
# Endpoint for clients: http://127.0.0.1:4566, dummy credentials (test/test), region us-east-1.
set -euo pipefail

LS_VERSION="4.13.1"   # last localstack-core release that supports Python 3.11 - do not bump blindly
LS_DIR="${QUEUEKIT_LOCALSTACK_DIR:-$PWD/.localstack}"
VENV="${QUEUEKIT_LOCALSTACK_VENV:-$LS_DIR/venv}"
PORT="${QUEUEKIT_LOCALSTACK_PORT:-4566}"
TIMEOUT="${QUEUEKIT_LOCALSTACK_TIMEOUT:-120}"
# kms: AWS::KMS::Key and SNS KmsMasterKeyId; cloudwatch: AWS::CloudWatch::Alarm. With SERVICES set,
# LocalStack loads *only* these (STRICT_SERVICE_LOADING) plus their hard dependencies, and a CloudFormation
# resource whose service is not loaded fails to deploy.
SERVICES_LIST="${QUEUEKIT_LOCALSTACK_SERVICES:-sqs,sns,s3,cloudformation,iam,sts,ssm,kms,cloudwatch}"
PYTHON="${QUEUEKIT_LOCALSTACK_PYTHON:-python3}"

LOG_FILE="$LS_DIR/localstack.log"
PID_FILE="$LS_DIR/localstack.pid"
HEALTH_URL="http://127.0.0.1:${PORT}/_localstack/health"

say() { echo "[localstack-up] $*" >&2; }

# Prints nothing and returns 0 when every requested service is "available" or "running".
# Otherwise returns 1 and prints what is missing (for the progress message).
health_ok() {
  local body
  body="$(curl -fsS --max-time 3 "$HEALTH_URL" 2>/dev/null)" || { echo "no answer on $HEALTH_URL"; return 1; }
  HEALTH_BODY="$body" SERVICES_LIST="$SERVICES_LIST" "$PYTHON" - <<'PY'
import json, os, sys
try:
    services = json.loads(os.environ["HEALTH_BODY"]).get("services", {})
except ValueError:
    print("health answer is not JSON"); sys.exit(1)
want = [s.strip() for s in os.environ["SERVICES_LIST"].split(",") if s.strip()]
bad = {s: services.get(s, "missing") for s in want if services.get(s) not in ("available", "running")}
if bad:
    print("not ready: " + ", ".join(f"{k}={v}" for k, v in sorted(bad.items()))); sys.exit(1)
PY
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

port_busy() { ss -Hltn "sport = :${PORT}" 2>/dev/null | grep -q .; }

fail() {
  say "ERROR: $*"
  if [ -f "$LOG_FILE" ]; then
    say "---- last 60 lines of $LOG_FILE ----"
    tail -n 60 "$LOG_FILE" >&2 || true
    say "---- end of log ----"
  fi
  exit 1
}

mkdir -p "$LS_DIR"

# 1. Already up?
if health_ok >/dev/null; then
  say "LocalStack already healthy on http://127.0.0.1:${PORT} (services: ${SERVICES_LIST}); nothing to do"
  exit 0
fi

# 2. Install localstack-core into the venv when missing (or when the venv holds another version).
installed="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("localstack-core"))' 2>/dev/null || true)"
if [ "$installed" != "$LS_VERSION" ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating venv $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  say "installing localstack-core[runtime]==${LS_VERSION} into $VENV (found: ${installed:-none})"
  t0=$SECONDS
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "localstack-core[runtime]==${LS_VERSION}"
  say "pip install took $((SECONDS - t0)) s"
fi

# 3. A runtime we started earlier may still be booting: wait for it instead of starting a second one.
pid=""
if [ -f "$PID_FILE" ]; then
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if pid_alive "$pid"; then
    say "LocalStack process $pid (from $PID_FILE) is running but not healthy yet; waiting for it"
  else
    rm -f "$PID_FILE"
    pid=""
  fi
fi

if [ -z "$pid" ]; then
  if port_busy; then
    fail "port ${PORT} is already in use by a process that is not a healthy LocalStack: $(ss -Hltnp "sport = :${PORT}" | tr -s ' ')"
  fi
  [ -f "$LOG_FILE" ] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  mkdir -p "$LS_DIR/fs"
  say "starting LocalStack ${LS_VERSION} in host mode on 127.0.0.1:${PORT} (services: ${SERVICES_LIST}); log: $LOG_FILE"
  # GATEWAY_LISTEN: bind loopback only. DNS_ADDRESS=0: no DNS server (it would bind port 53 on 0.0.0.0).
  # LOCALSTACK_HOST + SQS_ENDPOINT_STRATEGY=path: returned queue URLs / S3 locations use 127.0.0.1:PORT,
  #   which resolves without DNS (the default localhost.localstack.cloud needs public DNS).
  # SKIP_SSL_CERT_DOWNLOAD: no attempt to fetch the TLS cert from the internet at start (5 s timeouts each).
  # DISABLE_EVENTS: no analytics calls home. CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0: an unsupported
  #   resource type fails the stack instead of being silently skipped as if it had been created.
  env \
    GATEWAY_LISTEN="127.0.0.1:${PORT}" \
    LOCALSTACK_HOST="127.0.0.1:${PORT}" \
    DNS_ADDRESS=0 \
    SERVICES="$SERVICES_LIST" \
    DISABLE_EVENTS=1 \
    SKIP_SSL_CERT_DOWNLOAD=1 \
    SQS_ENDPOINT_STRATEGY="${SQS_ENDPOINT_STRATEGY:-path}" \
    CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES="${CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES:-0}" \
    FILESYSTEM_ROOT="$LS_DIR/fs" \
    setsid "$VENV/bin/python" -m localstack.runtime.main >"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
fi

# 4. Wait (bounded) for health.
t0=$SECONDS
status=""
while :; do
  if status="$(health_ok)"; then
    say "LocalStack healthy on http://127.0.0.1:${PORT} after $((SECONDS - t0)) s (pid $pid)"
    exit 0
  fi
  if ! pid_alive "$pid"; then
    rm -f "$PID_FILE"
    fail "LocalStack process $pid exited before becoming healthy (${status})"
  fi
  if [ $((SECONDS - t0)) -ge "$TIMEOUT" ]; then
    fail "LocalStack not healthy after ${TIMEOUT} s (${status}); it is still running as pid $pid - stop it with .ci/localstack-down.sh"
  fi
  sleep 1
done
