#!/usr/bin/env bash
# The fault checker (node/src/test/java/io/mysimbdp/node/faults/FaultRounds.java): three node
# processes, two tenants streaming over HTTP and one ingesting files throughout, while rounds of
# faults hit the cluster in turn: kill -9 of a node, the broker restarted, the store unreachable
# for 20 s, a node frozen with SIGSTOP for 30 s (the split-brain resolver downs it, it is started
# again), a rolling restart, 20 hand-offs. After each round it prints, per tenant:
#   confirmed, stored, lost, duplicated, unexpected, dead-lettered
# and at the end one summary line per broker. Exit 0 only if no round lost or duplicated a record.
#
#   scripts/faults.sh [rounds (20)] [embedded|rabbitmq|both (both)]
#
# RabbitMQ: Debian's rabbitmq-server, started by the test itself (scripts/rabbitmq.sh) unless
# TEST_AMQP_URI names one (a broker restart round then needs RABBITMQ_* of scripts/rabbitmq.sh).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
rounds="${1:-20}"; broker="${2:-both}"
status=0
./mvnw -B -ntp -q -pl node -am test -Dtest=FaultRoundsTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmysimbdp.faults.heavy=true -Dmysimbdp.faults.rounds="$rounds" -Dmysimbdp.faults.broker="$broker" >&2 || status=$?
grep -hE "^(fault rounds|round |    )" node/target/surefire-reports/io.mysimbdp.node.faults.FaultRoundsTest-output.txt || true
exit $status
