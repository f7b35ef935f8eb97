package io.mysimbdp.node.balance;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;

/** This node's own load (CPU of this process, heap), which its reporter puts in every digest to the load balancer. */
public final class NodeLoadReporter {
  private NodeLoadReporter() {}

  /** This process's CPU over the last moments, as a share of the CPUs it may use (0..1). */
  public static LoadBalancer.NodeLoad measure(String node) {
    int processors = Runtime.getRuntime().availableProcessors();
    double cpu = 0;
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      // Relative to the CPUs this JVM may use (a container's limit, where there is one).
      cpu = Math.max(0, os.getProcessCpuLoad());
    }
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return new LoadBalancer.NodeLoad(node, cpu, processors, heap.getUsed(), heap.getMax());
  }
}
