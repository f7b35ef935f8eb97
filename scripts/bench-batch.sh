#!/usr/bin/env bash
# Batch ingestion benchmark: platform records/s next to the MongoDB driver's raw bulk-insert
# ceiling on the same store, in one run. Usage: scripts/bench-batch.sh [records (default 1000000)]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
records="${1:-1000000}"
./mvnw -q -B -ntp -pl node -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath >&2
cd node
exec java -Xmx6g -cp "target/test-classes:target/classes:$(cat target/test.classpath)" io.mysimbdp.node.bench.BatchBenchmark "$records"
