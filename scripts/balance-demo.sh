#!/usr/bin/env bash
# The load balancer relieving a slow node: three node processes, three tenants streaming, the CPU of
# the node that hosts one of them stolen from outside (SIGSTOP/SIGCONT duty cycle by PID) while three
# publishers send that tenant more than the slowed node stores; prints when the balancer moved it, where, why,
# when it ran on its new node and its backlog drained, and checks every confirmed message is stored
# once. The suite runs the same test (ClusterBalancingTest).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -o test -pl node -am \
  -Dtest='ClusterBalancingTest#aSlowNodesLaggingTenantMovesToAnotherNodeAndCatchesUp' -Dsurefire.failIfNoSpecifiedTests=false
grep -h '^  ' node/target/surefire-reports/io.mysimbdp.node.cluster.ClusterBalancingTest-output.txt
