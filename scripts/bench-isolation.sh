#!/usr/bin/env bash
# Tenant isolation benchmark: tenant A's batch throughput through Alice's sandboxed function, alone
# and while tenant B keeps running (and re-enabling) a hostile function; A alone / A with B per
# round, with load averages. Builds with the reactor (nothing installed).
# Usage: scripts/bench-isolation.sh [rows of A per run (default 20000)] [rounds (default 3)]
#        [B's functions, comma-separated (default all): idle,benign,loop,append,alloc,spread,recursion,host]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -o -pl node -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath >&2
cd node
exec java -Xmx2g -cp "target/test-classes:target/classes:$(cat target/test.classpath)" \
    io.mysimbdp.node.bench.IsolationBenchmark "$@"
