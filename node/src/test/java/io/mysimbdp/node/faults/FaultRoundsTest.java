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
 * {@code -Dmysimbdp.faults.broker=embedded|rabbitmq|both}).
 */
class FaultRoundsTest {
  private static final int ROUNDS = Integer.getInteger("mysimbdp.faults.rounds", FaultRounds.Fault.values().length);
  private static final boolean HEAVY = Boolean.getBoolean("mysimbdp.faults.heavy");
  private static final String BROKERS = System.getProperty("mysimbdp.faults.broker", "both");

  private static FaultRounds.Settings settings(LocalCluster.Broker broker) {
    if (HEAVY) {
      return FaultRounds.Settings.heavy(broker, ROUNDS);
    }
    List<FaultRounds.Fault> kinds = List.of(FaultRounds.Fault.values());
    return new FaultRounds.Settings(broker, ROUNDS, kinds, Duration.ofSeconds(8), Duration.ofSeconds(3),
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
        .map(r -> "round " + r.number() + " (" + (r.fault() == null ? "final" : r.fault()) + "): " + r.counts())
        .collect(Collectors.joining("\n"));
    assertTrue(dirty.isEmpty(), "records lost or stored twice (node logs under " + dir + "):\n" + dirty);
  }
}
