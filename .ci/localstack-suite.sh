#!/usr/bin/env bash
# The LocalStack suite (`npm run test:localstack`): starts LocalStack in host mode (no Docker), bootstraps and
# deploys the reference app's messaging stack with cdklocal, runs test/localstack against it, and stops
# LocalStack again whatever happened. Then it runs the local runner's end-to-end suites (test/e2e) with
# QUEUEKIT_TARGET=localstack: the runner provisions its fixture app on the same LocalStack through the SQS/SNS APIs. Set QUEUEKIT_LOCALSTACK_RUNNING=1 to use a LocalStack you started yourself
# (Docker or not) at AWS_ENDPOINT_URL; it is then neither started nor stopped here. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=.ci/node.sh
source .ci/node.sh

export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
# cdklocal 3 talks to S3 through its own variable; an IP endpoint makes the SDK use path-style addressing,
# so nothing depends on resolving localhost.localstack.cloud (no DNS on an offline machine).
export AWS_ENDPOINT_URL_S3="${AWS_ENDPOINT_URL_S3:-$AWS_ENDPOINT_URL}"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
export AWS_ENVAR_ALLOWLIST="AWS_REGION,AWS_DEFAULT_REGION"
export CDK_DISABLE_CLI_TELEMETRY=1 CDK_DISABLE_VERSION_CHECK=1

if [ "${QUEUEKIT_LOCALSTACK_RUNNING:-0}" != "1" ]; then
  bash .ci/localstack-up.sh
  trap 'bash .ci/localstack-down.sh' EXIT
fi

out=cdk.localstack.out
start=$(date +%s)
npx cdklocal bootstrap "aws://000000000000/${AWS_REGION}" --no-notices --output "$out"
npx cdklocal deploy QueuekitMessaging --require-approval never --no-notices --output "$out"
echo "[localstack-suite] bootstrap + deploy took $(( $(date +%s) - start ))s"

# With QUEUEKIT_REPORT_DIR set (CI), each run also writes a JSON report there.
reports() { [ -n "${QUEUEKIT_REPORT_DIR:-}" ] && echo "--reporter=default --reporter=json --outputFile=$QUEUEKIT_REPORT_DIR/$1.json"; true; }
# shellcheck disable=SC2046
QUEUEKIT_ASSEMBLY="$out" npx vitest run --config vitest.localstack.config.ts $(reports localstack) "$@"
echo "[localstack-suite] the local runner end to end on LocalStack"
# shellcheck disable=SC2046
npx vitest run --config vitest.e2e-localstack.config.ts $(reports e2e-localstack) "$@"
