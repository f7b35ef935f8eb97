#!/usr/bin/env bash
# A rolling restart of three node processes under a steady stream, heavier than the suite's: each
# node in turn gets SIGTERM, exits on its own (its tenants hand off drained, it leaves the cluster),
# is started again and rejoins; two tenants publish over HTTP to every node all along. Prints, per
# node, how long it took to exit after SIGTERM against the grace period, and per tenant confirmed
# vs stored records, missing and unexpected ids, dead letters, requests sent again.
# (The suite runs RollingRestartTest with 1 round at 10 records / 200 ms per tenant.)
#
#   scripts/rolling-restart.sh [rounds] [records per request] [interval ms]     default 3 100 100
#   BROKER=rabbitmq scripts/rolling-restart.sh ...   against RabbitMQ (TEST_AMQP_URI, or scripts/rabbitmq.sh)
#
# The store and broker run in the test JVM (or RabbitMQ), so they outlive every node. Builds the
# reactor offline (no install).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
rounds="${1:-3}"; per_request="${2:-100}"; interval="${3:-100}"
case "${BROKER:-embedded}" in
  embedded) test='RollingRestartTest#onTheEmbeddedBroker' ;;
  rabbitmq) test='RollingRestartTest#onRabbitMq' ;;
  *) echo "BROKER is embedded or rabbitmq" >&2; exit 2 ;;
esac
status=0
./mvnw -B -ntp -q -pl node -am test -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmysimbdp.rolling.rounds="$rounds" -Dmysimbdp.rolling.per-request="$per_request" \
  -Dmysimbdp.rolling.interval-ms="$interval" >&2 || status=$?
grep -hE "^(rolling restart|  round|  roll-)" node/target/surefire-reports/io.mysimbdp.node.cluster.RollingRestartTest-output.txt || true
if [[ $status -ne 0 ]]; then
  echo "FAILED (the nodes' logs are kept under node/target/rolling-restart/)"
fi
exit $status
