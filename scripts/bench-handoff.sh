#!/usr/bin/env bash
# Hand-off benchmark: a tenant moved between node processes (POST /v1/tenants/{id}/move) while its
# stream flows; prints each move's hand-off (decision -> first message consumed on the new node) and
# the messages waiting then, the median / p90 / max, and the final confirmed-vs-stored check.
# Usage: scripts/bench-handoff.sh [moves (20)] [records per 100 ms (50)] [nodes (3)]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -pl node -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench-handoff.cp -Dmdep.includeScope=test >&2
cp="node/target/test-classes:node/target/classes:protocol/target/classes:customer-functions/target/classes:cluster-config/target/classes:$(tr ":" "\n" < node/target/bench-handoff.cp | grep -v /io/mysimbdp/ | paste -sd:)"
exec java -Xmx1g -cp "$cp" io.mysimbdp.node.bench.HandOffBenchmark "$@"
