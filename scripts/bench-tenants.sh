#!/usr/bin/env bash
# Many tenants on one node (issue #12): N tenants created (8 clients), their streams started, the
# node's threads, open files, RSS and idle CPU (60 s, BENCH_IDLE_SECONDS), then 20 records to each
# tenant (one NDJSON request each, 8 clients) until every one holds exactly its 20. Prints a table.
#
#   scripts/bench-tenants.sh [N]                 default 10,000; the embedded store and broker
#   AMQP_URI=amqp://... scripts/bench-tenants.sh the same on that RabbitMQ
#   BENCH_SHARDS=1 scripts/bench-tenants.sh [N]  one shard per tenant: entities started after the
#                                                creations, and again after a full restart
#   BENCH_NODES=3 BENCH_SHARDS=1 scripts/bench-tenants.sh [N]
#                                                the same on 3 node processes (one cluster): the
#                                                spread, the nodes leaving one by one, a full restart
#
# The node runs as its own process (Main). Builds the reactor first (no install).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
n="${1:-10000}"
# One reactor run: the sibling modules resolve to their target/classes, so nothing needs installing.
./mvnw -q -B -ntp -pl node -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-tenants.cp >&2
# This reactor's modules from their target/ directories, not whatever jars ~/.m2 holds.
cp="node/target/test-classes:node/target/classes:protocol/target/classes:customer-functions/target/classes:cluster-config/target/classes:cli/target/classes:$(tr ":" "\n" < node/target/bench-tenants.cp | grep -v /io/mysimbdp/ | paste -sd:)"
main=io.mysimbdp.node.bench.TenantDensityBenchmark
[[ "${BENCH_NODES:-1}" -gt 1 ]] && main=io.mysimbdp.node.bench.ShardsClusterBenchmark
exec java -Xmx512m -cp "$cp" "$main" "$n"
