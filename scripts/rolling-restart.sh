#!/usr/bin/env bash
# A rolling restart of three node processes under load, heavier than the suite's: the fault
# checker (scripts/faults.sh) with rolling restarts only. Each round sends SIGTERM to each node in
# turn; every node must exit on its own (its tenants hand off drained, it leaves the cluster) with
# 0 or 143 within the grace period of k8s/base/node-deployment.yaml, is started again and rejoins,
# while two tenants stream over HTTP and one ingests files. Prints, per round, each node's time from
# SIGTERM to exit, and per tenant confirmed, stored, lost, duplicated, dead-lettered records.
#
#   scripts/rolling-restart.sh [rounds (3)] [embedded|rabbitmq|both (embedded)]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
rounds="${1:-3}"; broker="${2:-embedded}"
status=0
./mvnw -B -ntp -q -pl node -am test -Dtest=FaultRoundsTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmysimbdp.faults.heavy=true -Dmysimbdp.faults.kinds=ROLLING_RESTART -Dmysimbdp.faults.rounds="$rounds" \
  -Dmysimbdp.faults.broker="$broker" >&2 || status=$?
grep -hE "^(fault rounds|round |    )" node/target/surefire-reports/io.mysimbdp.node.faults.FaultRoundsTest-output.txt || true
if [[ $status -ne 0 ]]; then
  echo "FAILED (the nodes' logs are kept under node/target/faults/)"
fi
exit $status
