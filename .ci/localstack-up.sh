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
#   QUEUEKIT_LOCALSTACK_PYTHON    interpreter for a new venv (default python3; 3.11+ works, see the shim)
#   Any other LocalStack config variable (DEBUG=1, ...) set in the caller's environment is passed through.
#
# Endpoint for clients: http://127.0.0.1:4566, dummy credentials (test/test), region us-east-1.
# Nothing is fetched from the internet at start or while serving (checked with strace): needs only PyPI
# for the first install. Queue URLs look like http://127.0.0.1:4566/queue/us-east-1/000000000000/NAME.
set -euo pipefail

LS_VERSION="4.13.1"   # last open localstack-core release usable on Python 3.11 - do not bump blindly
LS_DIR="${QUEUEKIT_LOCALSTACK_DIR:-$PWD/.localstack}"
VENV="${QUEUEKIT_LOCALSTACK_VENV:-$LS_DIR/venv}"
PORT="${QUEUEKIT_LOCALSTACK_PORT:-4566}"
TIMEOUT="${QUEUEKIT_LOCALSTACK_TIMEOUT:-120}"
# kms: AWS::KMS::Key and SNS KmsMasterKeyId; cloudwatch: AWS::CloudWatch::Alarm. With SERVICES set,
# LocalStack loads *only* these (STRICT_SERVICE_LOADING) plus their hard dependencies (ssm pulls in
# secretsmanager, kms and lambda), and a CloudFormation resource whose service is not loaded fails, e.g.
# AWS::CloudWatch::Alarm without cloudwatch: "Service 'cloudwatch' is not enabled".
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
  HEALTH_BODY="$body" SERVICES_LIST="$SERVICES_LIST" python3 - <<'PY'
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
# Guards against a recycled PID in a stale PID file.
is_localstack_pid() { pid_alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'localstack.runtime.main'; }

port_busy() { ss -Hltn "sport = :${PORT}" 2>/dev/null | grep -q .; }

fail() {
  say "ERROR: $*"
  if [ -n "${pid:-}" ] && [ -f "$LOG_FILE" ]; then
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

# localstack-core 4.13.1 declares requires-python >= 3.10, but upstream only runs it on 3.13 and two code
# paths need Python >= 3.12 (on 3.11: every kms.CreateKey fails with "TypeError: encoding without a string
# argument" from uuid.uuid5(ns, <bytes>), which breaks AWS::KMS::Key and SNS/SQS KmsMasterKeyId; and
# localstack.packages fails to import on `threading.Lock | None`, which disables some startup hooks).
# On an interpreter older than 3.12 a small .pth shim in the venv backports both; on 3.12+ it does nothing.
install_py311_compat() {
  local site
  site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  cat >"$site/_queuekit_localstack_compat.py" <<'PY'
"""Written by queuekit's .ci/localstack-up.sh: Python 3.11 backports needed by localstack-core 4.13.1."""
import sys

if sys.version_info < (3, 12):
    import _thread
    import hashlib
    import threading
    import uuid

    class _Lock:
        """threading.Lock as a class (it is one from 3.13 on), so `Lock | None` annotations evaluate."""

        def __new__(cls, *args, **kwargs):
            return _thread.allocate_lock()

    threading.Lock = _Lock

    _uuid3, _uuid5 = uuid.uuid3, uuid.uuid5

    def uuid3(namespace, name):  # 3.12+: name may be bytes
        if isinstance(name, (bytes, bytearray)):
            digest = hashlib.md5(namespace.bytes + bytes(name), usedforsecurity=False).digest()
            return uuid.UUID(bytes=digest[:16], version=3)
        return _uuid3(namespace, name)

    def uuid5(namespace, name):  # 3.12+: name may be bytes
        if isinstance(name, (bytes, bytearray)):
            digest = hashlib.sha1(namespace.bytes + bytes(name), usedforsecurity=False).digest()
            return uuid.UUID(bytes=digest[:16], version=5)
        return _uuid5(namespace, name)

    uuid.uuid3, uuid.uuid5 = uuid3, uuid5
PY
  echo "import _queuekit_localstack_compat" >"$site/_queuekit_localstack_compat.pth"
}

# 2. Install localstack-core into the venv when missing (or installed differently).
# localstack-core's own dependency ranges are open-ended and newer releases break it (cbor2 6.x removed
# cbor2._decoder -> "No component plugins found in namespace localstack.runtime.components"), so the
# install is constrained to upstream's lock file for this release (requirements-runtime.txt at tag v4.13.1).
LS_CONSTRAINTS="
  airspeed-ext==0.6.9 annotated-types==0.7.0 antlr4-python3-runtime==4.13.2 apispec==6.9.0
  argparse==1.4.0 asn1crypto==1.5.1 attrs==25.4.0 aws-sam-translator==1.106.0 aws-xray-sdk==2.15.0
  awscli==1.44.24 awscrt==0.31.1 boto3==1.42.34 botocore==1.42.34 cachetools==6.2.5 cbor2==5.8.0
  certifi==2026.1.4 cffi==2.0.0 cfn-lint==1.41.0 charset-normalizer==3.4.4 click==8.3.1
  colorama==0.4.6 constantly==23.10.4 crontab==1.0.5 cryptography==46.0.3 decorator==5.2.1
  dill==0.3.6 dnslib==0.9.26 dnspython==2.8.0 docker==7.1.0 docutils==0.19 events==0.5
  graphql-core==3.2.7 grpcio==1.76.0 h11==0.16.0 h2==4.3.0 hpack==4.1.0 hypercorn==0.18.0
  hyperframe==6.1.0 hyperlink==21.0.0 idna==3.11 incremental==24.11.0 isodate==0.7.2 jinja2==3.1.6
  jmespath==1.1.0 joserfc==1.6.1 jpype1==1.6.0 jsonpatch==1.33 jsonpath-ng==1.7.0 jsonpath-rw==1.4.0
  jsonpointer==3.0.0 jsonschema==4.26.0 jsonschema-path==0.3.4 jsonschema-specifications==2025.9.1
  kclpy-ext==3.0.5 lazy-object-proxy==1.12.0 localstack-twisted==24.3.0 markdown-it-py==4.0.0
  markupsafe==3.0.3 mdurl==0.1.2 more-itertools==10.8.0 moto-ext==5.1.20.post22 mpmath==1.3.0
  multipart==1.3.0 networkx==3.6.1 openapi-core==0.22.0 openapi-schema-validator==0.6.3
  openapi-spec-validator==0.7.2 opensearch-protobufs==0.19.0 opensearch-py==3.1.0 packaging==26.0
  pathable==0.4.4 plux==1.14.0 ply==3.11 priority==1.3.0 protobuf==6.33.4 psutil==7.2.1
  py-partiql-parser==0.6.3 pyasn1==0.6.2 pycparser==3.0 pydantic==2.12.4 pydantic-core==2.41.5
  pygments==2.19.2 pymongo==4.16.0 pyopenssl==25.3.0 pyparsing==3.3.2 python-dateutil==2.9.0.post0
  python-dotenv==1.2.1 pyyaml==6.0.3 readerwriterlock==1.0.9 referencing==0.36.2 regex==2026.1.15
  requests==2.32.5 requests-aws4auth==1.3.1 responses==0.25.8 rfc3339-validator==0.1.4 rich==14.3.1
  rolo==0.7.6 rpds-py==0.30.0 rsa==4.7.2 s3transfer==0.16.0 semver==3.0.4 six==1.17.0 sympy==1.14.0
  typing-extensions==4.15.0 typing-inspection==0.4.2 urllib3==2.6.3 werkzeug==3.1.5 wrapt==2.0.1
  wsproto==1.3.2 xmltodict==1.0.2 zope-interface==8.2
"
stamp="localstack-core[runtime]==${LS_VERSION} $(printf '%s' "$LS_CONSTRAINTS" "$(declare -f install_py311_compat)" | cksum | cut -d' ' -f1)"
STAMP_FILE="$VENV/.queuekit-localstack-stamp"
if [ "$(cat "$STAMP_FILE" 2>/dev/null || true)" != "$stamp" ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating venv $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  say "installing localstack-core[runtime]==${LS_VERSION} into $VENV"
  t0=$SECONDS
  constraints_file="$(mktemp)"
  # shellcheck disable=SC2086 # deliberate word splitting: one pin per line
  printf '%s\n' $LS_CONSTRAINTS >"$constraints_file"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$constraints_file" "localstack-core[runtime]==${LS_VERSION}" \
    || { rm -f "$constraints_file"; fail "pip install of localstack-core failed"; }
  rm -f "$constraints_file"
  install_py311_compat
  echo "$stamp" >"$STAMP_FILE"
  say "pip install took $((SECONDS - t0)) s"
fi

# 3. A runtime we started earlier may still be booting: wait for it instead of starting a second one.
pid=""
if [ -f "$PID_FILE" ]; then
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if is_localstack_pid "$pid"; then
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
  # GATEWAY_LISTEN: bind loopback only - honoured only by GATEWAY_SERVER=hypercorn; the default "twisted"
  #   server ignores the host for IPv4 and binds 0.0.0.0:PORT. (hypercorn here still answers both http and
  #   https on the one port.) DNS_ADDRESS=0: no DNS server (it would bind port 53 on 0.0.0.0, tcp+udp).
  # LOCALSTACK_HOST + SQS_ENDPOINT_STRATEGY=path: returned queue URLs / S3 locations use 127.0.0.1:PORT,
  #   which resolves without DNS (the default localhost.localstack.cloud needs public DNS).
  # SKIP_SSL_CERT_DOWNLOAD: no attempt to fetch the TLS cert from the internet at start (5 s timeouts each).
  # OVERRIDE_IN_DOCKER=0: this sandbox has /.dockerenv, so LocalStack would otherwise assume it runs in its
  #   own container and ignore FILESYSTEM_ROOT (writing to /var/lib/localstack and /tmp/localstack instead).
  # DISABLE_EVENTS: no analytics calls home.
  # CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES is deliberately left at LocalStack's default (true): with it set to
  #   0, 4.13.1 offline rejects *every* resource type, because its support check needs a catalog fetched from
  #   the internet and, without one, treats nothing as supported. Consequence: a resource type that
  #   LocalStack has no provider for is skipped silently (reported CREATE_COMPLETE) - check real resources.
  env \
    GATEWAY_LISTEN="127.0.0.1:${PORT}" \
    GATEWAY_SERVER="${GATEWAY_SERVER:-hypercorn}" \
    LOCALSTACK_HOST="127.0.0.1:${PORT}" \
    DNS_ADDRESS=0 \
    OVERRIDE_IN_DOCKER=0 \
    SERVICES="$SERVICES_LIST" \
    DISABLE_EVENTS=1 \
    SKIP_SSL_CERT_DOWNLOAD=1 \
    SQS_ENDPOINT_STRATEGY="${SQS_ENDPOINT_STRATEGY:-path}" \
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
