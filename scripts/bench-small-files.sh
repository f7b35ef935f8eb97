#!/usr/bin/env bash
# What one small batch file (12 records, upload + ingest through a JSONata function) costs the
# node: files/s, JVM CPU and thread starts per file (node/src/test/java/io/mysimbdp/node/bench/
# SmallFilesBenchmark.java, one JVM with the embedded store). Builds with the reactor.
# Usage: scripts/bench-small-files.sh [seconds (default 30)]   (JAVA_OPTS: extra JVM options)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -pl node -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath >&2
cd node
exec java -Xmx1g ${JAVA_OPTS:-} -cp "target/test-classes:target/classes:$(cat target/test.classpath)" \
    io.mysimbdp.node.bench.SmallFilesBenchmark "$@"
