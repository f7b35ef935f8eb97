#!/usr/bin/env bash
# A -Xmx512m node under the heaviest traffic one tenant may send (issue #13): tenant "big" sends
# single-record 8 MB messages with its stream stopped (they pile up against its queue's byte bound:
# 429s), then starts it; tenant "lines" ingests an NDJSON file of 15 MB lines; two steady tenants
# stream 500 records/s each throughout. Prints the steady tenants' stored rate before and under
# the pressure (and the ratio), the node's largest heap use, whether it stayed up, and per tenant
# confirmed, stored, lost, duplicated and dead letters. Exit 0 only if the node stayed up and
# nothing was lost or duplicated.
#
#   scripts/heap-demo.sh [messages (300)] [lines (12)]
#   AMQP_URI=amqp://... scripts/heap-demo.sh     the same on that RabbitMQ (scripts/rabbitmq.sh start)
#
# Needs ~3 GB free under /tmp (the file of lines, the node's store). Builds the reactor (no install).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -pl node -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/heap-demo.cp >&2
cp="node/target/test-classes:node/target/classes:protocol/target/classes:customer-functions/target/classes:cluster-config/target/classes:cli/target/classes:$(tr ":" "\n" < node/target/heap-demo.cp | grep -v /io/mysimbdp/ | paste -sd:)"
exec java -Xmx1g -cp "$cp" io.mysimbdp.node.bench.HeapPressureDemo "$@"
