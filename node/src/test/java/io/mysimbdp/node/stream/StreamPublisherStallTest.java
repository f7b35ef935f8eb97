package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.DispatcherSelector;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.typesafe.config.ConfigFactory;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A broker that blocks every publish (its flow control, a stalled channel) holds the publisher's
 * own threads only: other work on the blocking dispatcher keeps running, and new publishes are
 * refused at once (503) instead of queueing without bound.
 */
class StreamPublisherStallTest {
  private final ActorTestKit testKit =
      ActorTestKit.create(
          "stall",
          ConfigFactory.parseString(
                  "akka.actor.provider = local\nakka.coordinated-shutdown.exit-jvm = off\n"
                      + "mysimbdp.stream.publish.threads = 2\n"
                      + "mysimbdp.stream.publish.max-waiting = 4\n"
                      + "mysimbdp.stream.publish.confirm-timeout = 60s\n")
              .withFallback(ConfigFactory.load()));
  private final StalledBroker broker = new StalledBroker();
  private final StreamPublisher publisher = new StreamPublisher(testKit.system(), broker);

  @AfterEach
  void stop() {
    broker.release.countDown();
    publisher.close();
    testKit.shutdownTestKit();
  }

  @Test
  void aStalledBrokerHoldsThePublishersThreadsOnlyAndNewPublishesAre503AtOnce() throws Exception {
    List<CompletableFuture<Void>> stalled = new ArrayList<>();
    CompletableFuture<Void> refused = null;
    // More publishes than the blocking dispatcher has threads (16): before, each took one of them.
    for (int i = 0; i < 40 && refused == null; i++) {
      // each a batched envelope of 500 records: waiting publishes are counted as publishes, not records
      CompletableFuture<Void> f = publisher.publish("tenant-" + i, List.of(message("m" + i))).toCompletableFuture();
      if (f.isDone()) {
        refused = f;
      } else {
        stalled.add(f);
      }
      if (i == 0) {
        assertTrue(broker.publishing.await(30, TimeUnit.SECONDS), "the first publish reached the broker");
      }
    }
    assertTrue(refused != null, "40 publishes to a stalled broker all wait: " + stalled.size());
    assertTrue(stalled.size() <= 2 + 4, stalled.size() + " publishes wait (2 threads + 4 waiting)");
    CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class, refused::join);
    StreamPublisher.Refused why = assertInstanceOf(StreamPublisher.Refused.class, e.getCause());
    assertEquals(503, why.reason.status);

    // The blocking dispatcher the consumers share still runs work: all of it, more than its threads.
    Executor blocking = testKit.system().dispatchers().lookup(DispatcherSelector.blocking());
    List<CompletableFuture<Integer>> other = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      int n = i;
      other.add(CompletableFuture.supplyAsync(() -> n, blocking));
    }
    CompletableFuture.allOf(other.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    assertTrue(stalled.stream().noneMatch(CompletableFuture::isDone), "nothing was confirmed");

    // The broker lifts its flow control: what waited is published and confirmed.
    broker.release.countDown();
    CompletableFuture.allOf(stalled.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    assertEquals(stalled.size(), broker.published.get());
  }

  private static StreamPublisher.Outgoing message(String id) {
    return new StreamPublisher.Outgoing("{}".getBytes(StandardCharsets.UTF_8), "application/json", id, 500);
  }

  /** A broker whose channels block in basicPublish until released, then confirm each message. */
  static final class StalledBroker extends ConnectionFactory {
    final CountDownLatch publishing = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger published = new AtomicInteger();

    @Override
    public Connection newConnection(String clientProvidedName) {
      return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class}, (proxy, method, args) -> switch (method.getName()) {
        case "isOpen" -> true;
        case "createChannel" -> channel();
        case "abort", "close" -> {
          release.countDown();
          yield null;
        }
        default -> throw new UnsupportedOperationException(method.getName());
      });
    }

    private Channel channel() {
      AtomicLong seq = new AtomicLong(1);
      List<com.rabbitmq.client.ConfirmCallback> acks = new ArrayList<>();
      return (Channel) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Channel.class}, (proxy, method, args) -> switch (method.getName()) {
        case "isOpen" -> true;
        case "getNextPublishSeqNo" -> seq.get();
        case "confirmSelect", "addReturnListener", "addShutdownListener" -> null;
        case "addConfirmListener" -> {
          acks.add((com.rabbitmq.client.ConfirmCallback) args[0]);
          yield null;
        }
        case "basicPublish" -> {
          publishing.countDown();
          release.await();
          published.incrementAndGet();
          long tag = seq.getAndIncrement();
          for (var ack : acks) {
            ack.handle(tag, false);
          }
          yield null;
        }
        default -> throw new UnsupportedOperationException(method.getName());
      });
    }
  }
}
