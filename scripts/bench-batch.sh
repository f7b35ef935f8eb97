#!/usr/bin/env bash
# Batch ingestion benchmark: platform records/s next to the MongoDB driver's raw bulk-insert
# ceiling on the same store, in one run. Usage: scripts/bench-batch.sh [records (default 1000000)]
set -euo pipefail
cd "$(dirname "$0")/.."
records="${1:-1000000}"
mvn -q -B -DskipTests install >&2
mvn -q -B -pl node dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath >&2
cd node
exec java -Xmx6g -cp "target/test-classes:target/classes:$(cat target/test.classpath)" io.mysimbdp.node.bench.BatchBenchmark "$records"
