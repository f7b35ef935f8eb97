#!/usr/bin/env bash
# The embedded store's cost per write as the tenants grow (issue #12; EmbeddedStoreScale): for each
# N and each number of store files, a fresh embedded store with N tenant databases, then 2,000
# inserts spread over them, three times. Prints a table: tenants, store files, set-up seconds,
# milliseconds per insert.
#
#   [BENCH_STORE_FILES="1 16"] scripts/bench-embedded-store.sh [N ...]     default 500 2000 8000
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -pl node -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/store-scale.cp >&2
cp="node/target/test-classes:node/target/classes:protocol/target/classes:customer-functions/target/classes:cluster-config/target/classes:$(tr ":" "\n" < node/target/store-scale.cp | grep -v /io/mysimbdp/ | paste -sd:)"
java -cp "$cp" io.mysimbdp.node.bench.EmbeddedStoreScale "$@" | grep "^|"
