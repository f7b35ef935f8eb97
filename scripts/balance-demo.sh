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
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
case "${1:-slow}" in
  slow) test='ClusterBalancingTest#aSlowNodesLaggingTenantMovesToAnotherNodeAndCatchesUp'; observe=15 ;;
  join) test='ClusterBalancingTest#aJoiningNodeReceivesTenantsUntilTheLoadsEvenOutAndAKilledNodesTenantsResume'; observe="${2:-300}" ;;
  *) echo "usage: scripts/balance-demo.sh [slow | join [seconds]]" >&2; exit 2 ;;
esac
status=0
./mvnw -q -B -ntp test -pl node -am -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmysimbdp.balance.observe-seconds="$observe" >&2 || status=$?
grep -h '^  ' node/target/surefire-reports/io.mysimbdp.node.cluster.ClusterBalancingTest-output.txt || true
[[ $status -eq 0 ]] || echo "FAILED"
exit $status
