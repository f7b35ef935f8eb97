package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.mysimbdp.node.broker.Broker;
import io.mysimbdp.node.broker.ConsumerConnections;
import io.mysimbdp.node.testing.HttpApi.Reply;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Many tenants' streams on one node share its AMQP connections, a channel each (see the
 * subclasses for the brokers): threads do not grow with the tenants, every record is stored once,
 * and one tenant's broken queue or poison does not stop the others on the same connection.
 */
abstract class ManyTenantsSuite extends StreamContract {
  static final int TENANTS = 500;
  static final int RECORDS_EACH = 4;
  /** Threads the node may add between 5 and 500 started streams (pools that fill up on first use). */
  static final int THREAD_MARGIN = 40;

  @Test
  void fiveHundredStartedStreamsCostNoThreadEachAndStoreEveryRecordOnce() throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(8);
    try {
      List<Tenant> tenants = parallel(clients, TENANTS, i -> newTenant("many" + i));
      parallel(clients, 5, i -> {
        start(tenants.get(i));
        return null;
      });
      // Every started stream consumes: one message through each of the first five.
      parallel(clients, 5, i -> publish(tenants.get(i), "warm", 1));
      for (int i = 0; i < 5; i++) {
        Tenant t = tenants.get(i);
        awaitCount("warm-up records of " + t.id(), () -> records(t), 1);
      }
      int withFive = threads();
      SortedMap<String, Integer> familiesWithFive = threadFamilies();

      parallel(clients, TENANTS - 5, i -> {
        start(tenants.get(i + 5));
        return null;
      });
      parallel(clients, TENANTS, i -> publish(tenants.get(i), "r", RECORDS_EACH));
      for (int i = 0; i < TENANTS; i++) {
        Tenant t = tenants.get(i);
        long expected = RECORDS_EACH + (i < 5 ? 1 : 0);
        awaitCount("records of " + t.id(), () -> records(t), expected);
      }
      int withAll = threads();
      ConsumerConnections connections = ConsumerConnections.get(node.testKit.system());
      System.out.printf("%d started streams: %d threads (5 streams: %d), %d consumer connection(s), %d channels%n",
          TENANTS, withAll, withFive, connections.openConnections(), connections.leasedChannels());
      assertTrue(withAll <= withFive + THREAD_MARGIN,
          "threads with 5 streams " + withFive + ", with " + TENANTS + ": " + withAll + "; grown: " + grown(familiesWithFive, threadFamilies()));
      assertTrue(connections.openConnections() <= 1 + TENANTS / 1000, "consumer connections: " + connections.openConnections());
      // Exactly once: counted above as at least; no more, and no dead letter, once everything settled.
      for (int i = 0; i < TENANTS; i += 50) {
        Tenant t = tenants.get(i);
        assertEquals(RECORDS_EACH + (i < 5 ? 1 : 0), records(t), t.id());
        assertEquals(List.of(), deadLetters(t));
      }
    } finally {
      clients.shutdownNow();
    }
  }

  /**
   * On one shared connection: tenant A's queue is deleted under its running consumer (a channel
   * error of A's: the broker cancels its consumer), tenant B sends poison. C keeps flowing
   * throughout, A's stream comes back on its own (the restart declares the queue again), B's poison
   * ends in its dead letters.
   */
  @Test
  void aDeletedQueueAndPoisonOfOneTenantDoNotStopTheOthers() throws Exception {
    Tenant a = newTenant("qdel");
    Tenant b = newTenant("poisoner");
    Tenant c = newTenant("bystander");
    for (Tenant t : List.of(a, b, c)) {
      start(t);
    }
    assertEquals(202, publishNdjson(a, "a0", null, ndjsonLines(0, 10, null)).status());
    assertEquals(202, publishNdjson(c, "c0", null, ndjsonLines(0, 10, null)).status());
    awaitCount("A's first records", () -> records(a), 10);
    awaitCount("C's first records", () -> records(c), 10);
    int connectionsBefore = ConsumerConnections.get(node.testKit.system()).openConnections();

    Connection control = Broker.get(node.testKit.system()).controlConnection();
    try (Channel channel = control.createChannel()) {
      channel.queueDelete("mysimbdp.tenant." + a.id());
    }
    List<String> poison = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      poison.add("{\"n\":" + i + ",\"poison\":true}");
    }
    assertEquals(202, publishNdjson(b, "b0", "sensors", poison).status());
    assertEquals(202, publishNdjson(c, "c1", null, ndjsonLines(10, 100, null)).status());
    awaitCount("C's records while A's queue is gone and B is poisoned", () -> records(c), 110);
    awaitCount("B's dead letters", () -> deadLetters(b).size(), 50);

    // A's next publish: where the broker told A's consumer that its queue went (RabbitMQ's
    // basic.cancel), A's stream has started again and declared it; where it did not (the embedded
    // Qpid), the message is routed to no queue and refused with Retry-After (Qpid nacks it before it
    // returns it: 429), and A's stream starts again, declaring its queue. The client retries with
    // the same ids, as a client of the API does.
    Reply again = publishNdjson(a, "a1", null, ndjsonLines(10, 10, null));
    Instant deadline = Instant.now().plus(WAIT);
    while ((again.status() == 503 || again.status() == 429) && Instant.now().isBefore(deadline)) {
      assertFalse(headers(again).get("Retry-After").isEmpty(), again::toString);
      Thread.sleep(200);
      again = publishNdjson(a, "a1", null, ndjsonLines(10, 10, null));
    }
    assertEquals(202, again.status(), again::toString);
    awaitCount("A's queue declared again", () -> queueExists(control, "mysimbdp.tenant." + a.id()) ? 1 : 0, 1);
    awaitCount("A's records after its queue came back", () -> records(a), 20);
    assertEquals(202, publishNdjson(c, "c2", null, ndjsonLines(110, 10, null)).status());
    awaitCount("C's records at the end", () -> records(c), 120);
    assertEquals(connectionsBefore, ConsumerConnections.get(node.testKit.system()).openConnections(), "the shared connection stayed up");
    assertEquals(List.of(), deadLetters(c));
  }

  private static Void publish(Tenant t, String prefix, int records) {
    Reply r = publishNdjson(t, prefix, null, ndjsonLines(0, records, null));
    assertEquals(202, r.status(), r::toString);
    return null;
  }

  private static boolean queueExists(Connection connection, String queue) {
    try (Channel channel = connection.createChannel()) {
      channel.queueDeclarePassive(queue);
      return true;
    } catch (Exception notFound) {
      return false;
    }
  }

  static int threads() {
    return ManagementFactory.getThreadMXBean().getThreadCount();
  }

  /** Live threads by name with the numbers taken out (a pool's threads share one name). */
  static SortedMap<String, Integer> threadFamilies() {
    SortedMap<String, Integer> families = new TreeMap<>();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      families.merge(thread.getName().replaceAll("[0-9]+", "#"), 1, Integer::sum);
    }
    return families;
  }

  /** The families with more threads in {@code after}, and how many more. */
  static Map<String, Integer> grown(SortedMap<String, Integer> before, SortedMap<String, Integer> after) {
    Map<String, Integer> grown = new TreeMap<>();
    after.forEach((family, count) -> {
      int more = count - before.getOrDefault(family, 0);
      if (more > 0) {
        grown.put(family, more);
      }
    });
    return grown;
  }

  static <T> List<T> parallel(ExecutorService pool, int count, Function<Integer, T> task) throws Exception {
    List<Future<T>> futures = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int index = i;
      futures.add(pool.submit(() -> task.apply(index)));
    }
    List<T> out = new ArrayList<>();
    for (Future<T> f : futures) {
      out.add(f.get());
    }
    return out;
  }
}
