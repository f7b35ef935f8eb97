package io.mysimbdp.node.faults;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.node.testing.LocalCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * One short round of each fault kind under load on three node processes, on each broker (the
 * RabbitMQ half skipped without one): nothing confirmed is lost and nothing is stored twice.
 * {@code scripts/faults.sh} runs the heavy version through this class
 * ({@code -Dmysimbdp.faults.heavy=true}: 20 s store outage, 30 s freeze under the production
 * split-brain resolver, 20 hand-offs; {@code -Dmysimbdp.faults.rounds=N};
 * {@code -Dmysimbdp.faults.broker=embedded|rabbitmq|both}; {@code -Dmysimbdp.faults.kinds=ROLLING_RESTART,...}).
 * A rolling restart round also checks that every node exits on its own, with 0 or 143, within the
 * grace period of the node Deployment in {@code k8s/}.
 */
class FaultRoundsTest {
  private static final int ROUNDS = Integer.getInteger("mysimbdp.faults.rounds", 0);
  private static final boolean HEAVY = Boolean.getBoolean("mysimbdp.faults.heavy");
  private static final String BROKERS = System.getProperty("mysimbdp.faults.broker", "both");
  /** The fault kinds the rounds go through in turn (comma-separated names; default all). */
  private static final List<FaultRounds.Fault> KINDS = System.getProperty("mysimbdp.faults.kinds", "").isBlank()
      ? List.of(FaultRounds.Fault.values())
      : java.util.Arrays.stream(System.getProperty("mysimbdp.faults.kinds").split(",")).map(String::strip).map(FaultRounds.Fault::valueOf).toList();

  private static FaultRounds.Settings settings(LocalCluster.Broker broker) {
    int rounds = ROUNDS > 0 ? ROUNDS : KINDS.size();
    if (HEAVY) {
      FaultRounds.Settings heavy = FaultRounds.Settings.heavy(broker, rounds);
      return new FaultRounds.Settings(broker, rounds, KINDS, heavy.storeOutage(), heavy.brokerOutage(), heavy.freeze(),
          heavy.sbrStableAfter(), heavy.handoffs(), heavy.perRequest(), heavy.interval(), heavy.fileRows(), heavy.settleWithin());
    }
    return new FaultRounds.Settings(broker, rounds, KINDS, Duration.ofSeconds(8), Duration.ofSeconds(3),
        Duration.ofSeconds(15), Duration.ofSeconds(5), 4, 10, Duration.ofMillis(200), 200, Duration.ofMinutes(2));
  }

  @Test
  void onTheEmbeddedBroker() throws Exception {
    check(LocalCluster.Broker.EMBEDDED);
  }

  @Test
  void onRabbitMq() throws Exception {
    check(LocalCluster.Broker.RABBITMQ);
  }

  private static void check(LocalCluster.Broker broker) throws Exception {
    Assumptions.assumeTrue(BROKERS.equals("both") || BROKERS.equalsIgnoreCase(broker.name()), "only " + BROKERS + " asked for");
    Path dir = Path.of("target", "faults", broker.name().toLowerCase(Locale.ROOT) + "-" + System.currentTimeMillis()).toAbsolutePath();
    List<FaultRounds.Round> rounds = FaultRounds.run(dir, settings(broker), System.out);
    String dirty = rounds.stream().filter(r -> !r.clean())
        .map(r -> "round " + r.number() + " (" + (r.fault() == null ? "final" : r.fault()) + "): " + r.counts() + " " + r.problems())
        .collect(Collectors.joining("\n"));
    assertTrue(dirty.isEmpty(), "records lost or stored twice (node logs under " + dir + "):\n" + dirty);
  }
}
