#!/usr/bin/env bash
# The load balancer at work on node processes sharing one store and broker (ClusterBalancingTest,
# which the suite runs with short observation). Prints what the balancer did and checks every
# confirmed message is stored once.
#
#   scripts/balance-demo.sh [slow]          three nodes, three tenants streaming; the CPU of the node
#       hosting one of them stolen from outside (SIGSTOP/SIGCONT duty cycle by PID) while three
#       publishers send that tenant more than the slowed node stores: when the balancer moved it,
#       where, why, when it ran on its new node and its backlog drained.
#   scripts/balance-demo.sh join [seconds]  three nodes, eight tenants streaming; a fourth node joins
#       and is watched for [seconds] (default 300, the balancer's cool-down): tenants per node and
#       moves per tenant every 30 s, every move with its time; then a node is killed with SIGKILL
#       and its tenants resume on the others.
#   scripts/balance-demo.sh scaleout [scale-in-after]  two nodes of scripts/cluster.sh with its local
#       autoscaler (scripts/cluster.sh autoscale) on; one tenant's demand raised while its node's CPU
#       is stolen and no other node has headroom: when the reports asked for a node and why, when
#       the third node joined, when the slow tenant ran there and its backlog drained; then demand
#       drops and, after [scale-in-after] (default 60s), the cluster scales back in. Every confirmed
#       record stored once (ScaleOutDemo). Uses cluster.sh's fixed local ports (8080.., 8558.., 2551..).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
if [[ "${1:-}" == scaleout ]]; then
  ./mvnw -q -B -ntp -pl node -am -DskipTests package >&2
  ./mvnw -q -B -ntp -pl node -am -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile=target/scaleout-demo.cp -Dmdep.includeScope=test >&2
  cp="node/target/test-classes:node/target/classes:protocol/target/classes:customer-functions/target/classes:cluster-config/target/classes:$(tr ":" "\n" < node/target/scaleout-demo.cp | grep -v /io/mysimbdp/ | paste -sd:)"
  cd node
  exec java -Xmx512m -cp "$(sed 's#\(^\|:\)\([a-z-]*/target\)#\1../\2#g' <<<"$cp")" io.mysimbdp.node.bench.ScaleOutDemo "${2:-60s}"
fi
case "${1:-slow}" in
  slow) test='ClusterBalancingTest#aSlowNodesLaggingTenantMovesToAnotherNodeAndCatchesUp'; observe=15 ;;
  join) test='ClusterBalancingTest#aJoiningNodeReceivesTenantsUntilTheLoadsEvenOutAndAKilledNodesTenantsResume'; observe="${2:-300}" ;;
  *) echo "usage: scripts/balance-demo.sh [slow | join [seconds] | scaleout [scale-in-after]]" >&2; exit 2 ;;
esac
status=0
./mvnw -q -B -ntp test -pl node -am -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmysimbdp.balance.observe-seconds="$observe" >&2 || status=$?
grep -h '^  ' node/target/surefire-reports/io.mysimbdp.node.cluster.ClusterBalancingTest-output.txt || true
[[ $status -eq 0 ]] || echo "FAILED"
exit $status
