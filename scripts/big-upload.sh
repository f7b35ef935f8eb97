#!/usr/bin/env bash
# A 2 GiB CSV through the resumable (tus) upload into a node process capped at -Xmx512m; the first
# PATCH is cut halfway and resumed; prints throughput and whether the staged SHA-256 matches.
# Usage: scripts/big-upload.sh [bytes (default 2147483648)]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -pl node -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath >&2
cd node
exec java -Xmx1g -cp "target/test-classes:target/classes:$(cat target/test.classpath)" io.mysimbdp.node.bench.BigUploadDemo "$@"
