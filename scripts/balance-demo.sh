#!/usr/bin/env bash
# The load balancer relieving a slow node: three node processes, three tenants streaming, the CPU of
# the node that hosts one of them stolen from outside (SIGSTOP/SIGCONT duty cycle by PID) while that
# tenant's records go through a CPU-heavy function; prints when the balancer moved it, where, why,
# when it ran on its new node and its backlog drained, and checks every confirmed message is stored
# once. Not in every build (see ClusterBalancingTest); needs a machine not busy with other work.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -o test -pl node -am -Dmysimbdp.demo=slow-node \
  -Dtest='ClusterBalancingTest#aSlowNodesLaggingTenantMovesToAnotherNodeAndCatchesUp' -Dsurefire.failIfNoSpecifiedTests=false
grep -h '^  ' node/target/surefire-reports/io.mysimbdp.node.cluster.ClusterBalancingTest-output.txt
