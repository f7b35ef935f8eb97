#!/usr/bin/env bash
# Per-record cost of the identity, built-in and sandboxed (JSONata, CEL) functions, in one JVM:
# prints ns/record and records/s per function (figures in docs/functions.md).
# Usage: scripts/bench-functions.sh [--passes 20 --warmup 10]
#        BENCH_MAIN=io.mysimbdp.functions.sandbox.HostileCost scripts/bench-functions.sh   (another benchmark class)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -pl customer-functions -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath >&2
cd customer-functions
exec java -Xmx1g -cp "target/test-classes:target/classes:$(cat target/test.classpath)" \
    "${BENCH_MAIN:-io.mysimbdp.functions.FunctionBenchmark}" "$@"
