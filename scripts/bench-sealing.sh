#!/usr/bin/env bash
# Sealing benchmark (issue #15): client-side sealing rates (values/s, records/s, both modes) and the
# platform's ingestion rate of a file with two sealed columns against the same file unsealed.
# Usage: scripts/bench-sealing.sh [records (default 200000)]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
records="${1:-200000}"
# Compiled in the reactor (no install): sibling modules resolve to their target/classes.
./mvnw -q -B -ntp -pl node -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/test.classpath >&2
cd node
exec java -Xmx2g -cp "target/test-classes:target/classes:$(cat target/test.classpath)" io.mysimbdp.node.bench.SealedBenchmark "$records"
