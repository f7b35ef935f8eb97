package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.entity.TenantIngestor;
import io.mysimbdp.node.report.TenantMeters;
import io.mysimbdp.node.testing.HttpApi.Reply;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The consumer's prefetch follows the records its messages carry, for each broker (see the
 * subclasses): at most prefetch-records 2,000 held, so 10 envelopes of 200 records (HTTP NDJSON), or
 * the upper bound of 100 messages of one record; each change drains the consumer and starts another,
 * and every record is stored once across it.
 */
abstract class StreamPrefetchSuite extends StreamContract {
  static final Duration MIN_INTERVAL = Duration.ofSeconds(2);

  /** Small bounds, checked often, so that a change shows within a second or two. */
  static final Config PREFETCH =
      ConfigFactory.parseString(
          "mysimbdp.stream.consume { prefetch = 100, min-prefetch = 5, prefetch-records = 2000,"
              + " prefetch-check-interval = 300ms, prefetch-min-interval = " + MIN_INTERVAL.toMillis() + "ms,"
              // By records only here: bytes do not bind (16 MiB messages assumed before any is measured).
              + " prefetch-bytes = 4g }");

  private static final Pattern CONSUMING = Pattern.compile("tenant (\\S+): consuming .* \\(prefetch (\\d+) messages\\)");
  private static final Pattern CHANGED = Pattern.compile("tenant (\\S+): message prefetch (\\d+) -> (\\d+) ");
  private static final ListAppender<ILoggingEvent> LOG = new ListAppender<>();
  private static final Logger STREAM_LOGGER = (Logger) LoggerFactory.getLogger("io.mysimbdp.node.stream");

  static void startNode(Path dataDir, Config broker) throws Exception {
    LOG.start();
    STREAM_LOGGER.addAppender(LOG);
    StreamContract.startNode(dataDir, broker.withFallback(PREFETCH));
  }

  @AfterAll
  static void stop() {
    stopNode();
    STREAM_LOGGER.detachAppender(LOG);
  }

  @Test
  void batchedHttpMessagesOfALaggingTenantLowerThePrefetchAndEveryRecordIsStoredOnce() throws Exception {
    Tenant t = newTenant("batched");
    start(t);
    assertEquals(10, status(t).path("prefetch").asInt(), "nothing measured yet: full envelopes assumed, 2000 / 200");

    // One record a message: too few records held, the prefetch rises to its bound (and the records
    // per message behind it are saved with the stream state).
    publishDirect(directUri(t), t.exchange(), singles(t, "one-", 300));
    awaitCount("records", () -> records(t), 300);
    awaitEquals("prefetch", () -> status(t).path("prefetch").asLong(), 100);

    // The tenant moves (hand-off: this node's meter is gone, as on another node) and publishes
    // NDJSON over HTTP meanwhile: 150 envelopes of 200 records wait for its consumer.
    ClusterSharding.get(node.testKit.system()).entityRefFor(TenantIngestor.ENTITY_KEY, t.id()).tell(TenantIngestor.HandOff.INSTANCE);
    await("the entity stopped", () -> TenantMeters.get(node.testKit.system()).all().stream().noneMatch(m -> m.tenantId().equals(t.id())));
    // A publish tells the tenant's entity (its queue grew), which may start it again at once.
    int logFrom;
    synchronized (LOG) {
      logFrom = LOG.list.size();
    }
    int published = 300;
    for (int from = 0; from < 30_000; from += 1_000) {
      Reply r = publishNdjson(t, "b" + from, null, ndjsonLines(from, 1_000, null));
      assertEquals(202, r.status(), r::toString);
      published += 1_000;
    }
    ClusterSharding.get(node.testKit.system()).entityRefFor(TenantIngestor.ENTITY_KEY, t.id()).tell(TenantIngestor.Wake.INSTANCE);

    // The new consumer starts from the saved figure (one record a message: 100 messages, 20,000
    // records taken at once), measures 200, drains and starts again with 2000 / 200.
    awaitEquals("prefetch", () -> status(t).path("prefetch").asLong(), 10);
    awaitCount("records", () -> records(t), published);
    // Nothing left un-acked: no delivery can come again, the counts below are final.
    awaitEquals("bytes the node's consumers hold un-acked", () -> NodeStreams.get(node.testKit.system()).bytesHeld(), 0);
    assertEquals(published, records(t), "every record once");
    assertEquals(published, recordIds(t).size());
    assertEquals(0, status(t).path("duplicates").asLong(), "no message stored and then delivered again");
    assertEquals(List.of(), deadLetters(t));
    assertEquals(0, status(t).path("lag").asLong());

    List<String> after = lines(t, logFrom);
    assertEquals("100", first(CONSUMING, after, 2), "the start after the move used the saved figure: " + after);
    assertEquals(List.of("10 -> 100", "100 -> 10"), changes(t, 0), () -> lines(t, 0).toString());
    Document state = mongo.getDatabase("tenant_" + t.id()).getCollection(StreamIngestor.STATE_COLLECTION).find().first();
    assertEquals("started", state.getString("state"));
    assertEquals(10, state.getInteger("prefetch"));
    assertEquals(200.0, state.getDouble("recordsPerMessage"), 0.01);
  }

  @Test
  void oneRecordMessagesKeepTheFullPrefetch() throws Exception {
    Tenant t = newTenant("single");
    start(t);
    publishDirect(directUri(t), t.exchange(), singles(t, "a-", 500));
    awaitEquals("prefetch", () -> status(t).path("prefetch").asLong(), 100);
    int published = 500;
    // More of the same, each round measured and then looked at by the node's checks, the last of
    // them once prefetch-min-interval has passed since the change (a change is allowed again):
    // the prefetch stays at its bound.
    NodeStreams streams = NodeStreams.get(node.testKit.system());
    Instant changed = streams.lastPrefetchChange(t.id()).orElseThrow();
    for (int round = 0; round < 3; round++) {
      publishDirect(directUri(t), t.exchange(), singles(t, "r" + round + "-", 300));
      published += 300;
      long stored = published;
      awaitCount("records", () -> records(t), stored);
      long checksBefore = streams.prefetchChecksMade();
      boolean last = round == 2;
      // Two more checks: at least one whole check began after the round was measured.
      await("prefetch checks after round " + round, () -> streams.prefetchChecksMade() >= checksBefore + 2
          && (!last || Duration.between(changed, Instant.now()).compareTo(MIN_INTERVAL) > 0));
      assertEquals(100, status(t).path("prefetch").asInt());
    }
    assertEquals(changed, streams.lastPrefetchChange(t.id()).orElseThrow(), "no change since 10 -> 100");
    long expected = published;
    awaitCount("records", () -> records(t), expected);
    assertEquals(expected, recordIds(t).size());
    assertEquals(0, status(t).path("duplicates").asLong());
    assertEquals(List.of("10 -> 100"), changes(t, 0), () -> lines(t, 0).toString());
  }

  /** The stream log lines about tenant {@code t}, from the {@code from}th line captured. */
  private static List<String> lines(Tenant t, int from) {
    List<String> lines = new ArrayList<>();
    List<ILoggingEvent> events;
    synchronized (LOG) {
      events = new ArrayList<>(LOG.list.subList(from, LOG.list.size()));
    }
    for (ILoggingEvent e : events) {
      String line = e.getFormattedMessage();
      if (line.startsWith("tenant " + t.id() + ":")) {
        lines.add(line);
      }
    }
    return lines;
  }

  /** The prefetch changes logged for {@code t}, as "old -> new". */
  private static List<String> changes(Tenant t, int from) {
    List<String> changes = new ArrayList<>();
    for (String line : lines(t, from)) {
      Matcher m = CHANGED.matcher(line);
      if (m.find()) {
        changes.add(m.group(2) + " -> " + m.group(3));
      }
    }
    return changes;
  }

  private static String first(Pattern pattern, List<String> lines, int group) {
    for (String line : lines) {
      Matcher m = pattern.matcher(line);
      if (m.find()) {
        return m.group(group);
      }
    }
    return null;
  }

  private static void awaitEquals(String what, LongSupplier actual, long expected) throws InterruptedException {
    Instant deadline = Instant.now().plus(WAIT);
    long last = actual.getAsLong();
    while (last != expected && Instant.now().isBefore(deadline)) {
      Thread.sleep(100);
      last = actual.getAsLong();
    }
    assertEquals(expected, last, what);
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    while (!condition.getAsBoolean() && Instant.now().isBefore(deadline)) {
      Thread.sleep(50);
    }
    assertTrue(condition.getAsBoolean(), what);
  }
}
