package io.mysimbdp.node.balance;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code mysimbdp.balancer}: the load balancer's policy knobs (see docs/balancer.md). */
public record BalancerSettings(
    boolean enabled,
    Duration reportInterval,
    Duration wakeInterval,
    Duration coolDown,
    int settleReports,
    int lagReports,
    long minBacklog,
    double lagMargin,
    double cpuHigh,
    double minDemand,
    double imbalance,
    double hysteresis,
    Duration handOffTimeout,
    Duration pokeInterval,
    int recentDecisions,
    int minNodes,
    int maxNodes,
    double scaleInCpu,
    Duration scaleInAfter) {

  public static BalancerSettings from(Config root) {
    Config c = root.getConfig("mysimbdp.balancer");
    return new BalancerSettings(
        c.getBoolean("enabled"),
        root.getDuration("mysimbdp.reports.interval"),
        root.getDuration("mysimbdp.ingestion.wake-interval"),
        c.getDuration("cool-down"),
        c.getInt("settle-reports"),
        c.getInt("lag-reports"),
        c.getLong("min-backlog"),
        c.getDouble("lag-margin"),
        c.getDouble("cpu-high"),
        c.getDouble("min-demand"),
        c.getDouble("imbalance"),
        c.getDouble("hysteresis"),
        c.getDuration("hand-off-timeout"),
        c.getDuration("poke-interval"),
        c.getInt("recent-decisions"),
        c.getInt("min-nodes"),
        c.getInt("max-nodes"),
        c.getDouble("scale-in-cpu"),
        c.getDuration("scale-in-after"));
  }

  public BalancerSettings {
    if (minNodes < 1 || maxNodes < minNodes) {
      throw new IllegalArgumentException("mysimbdp.balancer: min-nodes (MIN_NODES) must be at least 1 and max-nodes (MAX_NODES) at least min-nodes: "
          + minNodes + ", " + maxNodes);
    }
  }

  /** How long after a move the balancer waits before deciding again: its effect must show first. */
  public Duration settle() {
    return reportInterval.multipliedBy(settleReports);
  }
}
