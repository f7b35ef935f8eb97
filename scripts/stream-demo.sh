#!/usr/bin/env bash
# The heavy stream demonstrations (see node/src/test/java/io/mysimbdp/node/stream/StreamLoad.java):
#
#   scripts/stream-demo.sh pair 100000      two tenants x 100,000 (half HTTP, half straight to RabbitMQ)
#   scripts/stream-demo.sh restart 100000   RabbitMQ restarted mid-stream
#   scripts/stream-demo.sh kill 100000      the node killed with kill -9 mid-stream, then restarted
#   scripts/stream-demo.sh poison 100000    clean run vs 1% poison
#   scripts/stream-demo.sh bench 100000     end-to-end msg/s and latency vs the broker's ceiling
#
# Starts RabbitMQ (scripts/rabbitmq.sh) if needed; the node runs as its own process (Main) with the
# embedded store. Builds the reactor offline first (no install).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
scenario="${1:-pair}"; n="${2:-100000}"
eval "$(scripts/rabbitmq.sh start)"
export AMQP_URI AMQP_MANAGEMENT_URI
./mvnw -q -B -ntp -pl node -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/stream-demo.cp -Dmdep.includeScope=test >&2
cp="node/target/test-classes:node/target/classes:protocol/target/classes:customer-functions/target/classes:cluster-config/target/classes:$(tr ":" "\n" < node/target/stream-demo.cp | grep -v /io/mysimbdp/ | paste -sd:)"
exec java -Xmx1g -cp "$cp" io.mysimbdp.node.stream.StreamLoad "$scenario" "$n"
