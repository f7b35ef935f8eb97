#!/usr/bin/env bash
# Tenant isolation benchmark (issue #5): tenant A's batch throughput through Alice's sandboxed
# function alone, alongside tenant B sending 12-record files at a fixed pace through a benign
# function, and alongside B doing the same through a hostile function it resets before every file;
# the three cases in a rotating order every round. Prints per round and per hostile function the
# ratios of A's rate (hostile/benign, hostile/alone), B's files, records, dead letters and refused
# resets (429), A's dead letters, the JVM's CPU, and the time from B's upload to DISABLED.
# Builds with the reactor (nothing installed).
# Usage: scripts/bench-isolation.sh [rows of A per run (default 20000)] [rounds (default 3)]
#        [B's hostile functions, comma-separated (default all): loop,append,alloc,spread,recursion,host]
#        [B's interval between files in ms (default 250, or $B_INTERVAL)]
# ("idle" and "benign" in the list are accepted and ignored: A alone and B benign run in every round.)
# The function routes' rate limit is the node's: FUNCTIONS_RATE_LIMIT_PER_MINUTE, FUNCTIONS_RATE_LIMIT_BURST.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -pl node -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath >&2
cd node
exec java -Xmx2g -cp "target/test-classes:target/classes:$(cat target/test.classpath)" \
    io.mysimbdp.node.bench.IsolationBenchmark "$@"
