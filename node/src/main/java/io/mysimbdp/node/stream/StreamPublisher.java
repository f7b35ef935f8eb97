package io.mysimbdp.node.stream;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.mysimbdp.node.broker.Broker;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes tenants' messages to their exchanges from this node, with publisher confirms: a
 * publish completes only once the broker confirmed every AMQP message of it. A few long-lived
 * channels on one connection (reopened on demand) carry every tenant's messages.
 *
 * <p>Nothing is buffered without bound: messages published and not yet confirmed are counted per
 * node and per tenant; beyond either limit a publish is refused at once ({@link Refused}), and so
 * is a publish the broker nacks (a full tenant queue). The caller turns that into 429/503 with
 * {@code Retry-After}. The AMQP client blocks, so publishing runs on the blocking dispatcher.
 */
public final class StreamPublisher implements Extension {
  private static final Logger log = LoggerFactory.getLogger(StreamPublisher.class);

  public static final ExtensionId<StreamPublisher> ID =
      new ExtensionId<>() {
        @Override
        public StreamPublisher createExtension(ActorSystem<?> system) {
          return new StreamPublisher(system);
        }
      };

  public static StreamPublisher get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  /** One AMQP message to publish; {@code count} is how many stream messages it carries. */
  public record Outgoing(byte[] body, String contentType, String messageId, int count) {}

  /** Why a publish was refused; {@code status} is the HTTP status it becomes (429 or 503). */
  public static final class Refused extends RuntimeException {
    public enum Reason {
      /** The tenant's queue is full (the broker nacked). */
      QUEUE_FULL(429, "queue_full"),
      /** The tenant has too many messages awaiting confirmation on this node. */
      TENANT_QUOTA(429, "over_quota"),
      /** This node has too many messages awaiting confirmation. */
      NODE_BUSY(503, "busy"),
      /** The broker is unreachable, closed the channel or did not confirm in time. */
      BROKER_UNAVAILABLE(503, "broker_unavailable");

      public final int status;
      public final String code;

      Reason(int status, String code) {
        this.status = status;
        this.code = code;
      }
    }

    public final Reason reason;

    public Refused(Reason reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }
  }

  private final StreamSettings settings;
  private final ConnectionFactory factory;
  private final Executor blocking;
  private final Semaphore nodeInFlight;
  private final Map<String, AtomicInteger> tenantInFlight = new ConcurrentHashMap<>();
  private final ConfirmChannel[] channels;
  private final AtomicLong next = new AtomicLong();
  private Connection connection;

  private StreamPublisher(ActorSystem<?> system) {
    this.settings = StreamSettings.from(system.settings().config());
    this.factory = Broker.get(system).connectionFactory();
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.nodeInFlight = new Semaphore(settings.maxInFlight());
    this.channels = new ConfirmChannel[settings.publishChannels()];
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "close-amqp-publisher",
            () -> CompletableFuture.supplyAsync(() -> {
              closeConnection();
              return Done.getInstance();
            }, blocking));
  }

  /**
   * Publishes {@code messages} to the tenant's exchange as persistent messages; completes once
   * the broker confirmed them all, or fails with {@link Refused}.
   */
  public CompletionStage<Void> publish(String tenantId, List<Outgoing> messages) {
    int count = messages.stream().mapToInt(Outgoing::count).sum();
    AtomicInteger tenant = tenantInFlight.computeIfAbsent(tenantId, t -> new AtomicInteger());
    if (tenant.addAndGet(count) > settings.maxInFlightPerTenant()) {
      tenant.addAndGet(-count);
      return CompletableFuture.failedFuture(
          new Refused(Refused.Reason.TENANT_QUOTA, "tenant '" + tenantId + "' has more than " + settings.maxInFlightPerTenant() + " messages awaiting the broker's confirmation; retry later"));
    }
    if (!nodeInFlight.tryAcquire(count)) {
      tenant.addAndGet(-count);
      return CompletableFuture.failedFuture(
          new Refused(Refused.Reason.NODE_BUSY, "this node has too many messages awaiting the broker's confirmation; retry later"));
    }
    String exchange = settings.exchange(tenantId);
    CompletableFuture<Void> confirmed =
        CompletableFuture.supplyAsync(() -> publishNow(exchange, messages), blocking)
            .thenCompose(all -> all)
            .orTimeout(settings.confirmTimeout().toMillis(), TimeUnit.MILLISECONDS);
    return confirmed
        .whenComplete((ok, failure) -> {
          nodeInFlight.release(count);
          tenant.addAndGet(-count);
        })
        .exceptionally(failure -> {
          throw new CompletionException(classify(tenantId, failure));
        });
  }

  private CompletableFuture<Void> publishNow(String exchange, List<Outgoing> messages) {
    int slot = (int) (next.getAndIncrement() % channels.length);
    ConfirmChannel channel;
    try {
      channel = channel(slot);
    } catch (IOException e) {
      throw new CompletionException(e);
    }
    List<CompletableFuture<Void>> confirms = new ArrayList<>(messages.size());
    synchronized (channel) {
      for (Outgoing message : messages) {
        AMQP.BasicProperties properties =
            new AMQP.BasicProperties.Builder()
                .deliveryMode(2)
                .contentType(message.contentType())
                .messageId(message.messageId())
                .timestamp(new Date())
                .build();
        confirms.add(channel.publish(exchange, properties, message.body()));
      }
    }
    return CompletableFuture.allOf(confirms.toArray(CompletableFuture[]::new));
  }

  private static Throwable classify(String tenantId, Throwable failure) {
    Throwable e = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    if (e instanceof Refused) {
      return e;
    }
    if (e instanceof TimeoutException) {
      log.warn("publishing for tenant {}: the broker did not confirm in time", tenantId);
      return new Refused(Refused.Reason.BROKER_UNAVAILABLE, "the broker did not confirm in time; retry later");
    }
    log.warn("publishing for tenant {} failed: {}", tenantId, e.toString());
    return new Refused(Refused.Reason.BROKER_UNAVAILABLE, "the broker is not available; retry later");
  }

  private ConfirmChannel channel(int slot) throws IOException {
    synchronized (channels) {
      ConfirmChannel current = channels[slot];
      if (current != null && current.channel.isOpen()) {
        return current;
      }
      if (connection == null || !connection.isOpen()) {
        try {
          connection = factory.newConnection("mysimbdp-publisher");
        } catch (TimeoutException e) {
          throw new IOException("timed out connecting to the AMQP broker", e);
        }
      }
      ConfirmChannel fresh = new ConfirmChannel(connection.createChannel());
      channels[slot] = fresh;
      return fresh;
    }
  }

  private void closeConnection() {
    synchronized (channels) {
      if (connection != null) {
        connection.abort(2000);
        connection = null;
      }
    }
  }

  /** A channel in confirm mode, and the confirmations it awaits by sequence number. */
  private static final class ConfirmChannel {
    final Channel channel;
    final ConcurrentNavigableMap<Long, CompletableFuture<Void>> pending = new ConcurrentSkipListMap<>();

    ConfirmChannel(Channel channel) throws IOException {
      this.channel = channel;
      channel.confirmSelect();
      channel.addConfirmListener((tag, multiple) -> settle(tag, multiple, null), (tag, multiple) -> settle(tag, multiple,
          new Refused(Refused.Reason.QUEUE_FULL, "the tenant's queue is full (the broker refused the message); retry later")));
      channel.addShutdownListener(
          cause -> {
            IOException closed = new IOException("the publishing channel closed: " + cause.getMessage());
            pending.values().forEach(f -> f.completeExceptionally(closed));
            pending.clear();
          });
    }

    /** Publishes; the caller holds this channel's lock. */
    CompletableFuture<Void> publish(String exchange, AMQP.BasicProperties properties, byte[] body) {
      CompletableFuture<Void> confirmed = new CompletableFuture<>();
      long seq = channel.getNextPublishSeqNo();
      pending.put(seq, confirmed);
      try {
        channel.basicPublish(exchange, "", false, properties, body);
      } catch (IOException | RuntimeException e) {
        pending.remove(seq);
        confirmed.completeExceptionally(e);
      }
      return confirmed;
    }

    private void settle(long tag, boolean multiple, Throwable failure) {
      if (multiple) {
        ConcurrentNavigableMap<Long, CompletableFuture<Void>> settled = pending.headMap(tag, true);
        settled.values().forEach(f -> complete(f, failure));
        settled.clear();
      } else {
        CompletableFuture<Void> f = pending.remove(tag);
        if (f != null) {
          complete(f, failure);
        }
      }
    }

    private static void complete(CompletableFuture<Void> f, Throwable failure) {
      if (failure == null) {
        f.complete(null);
      } else {
        f.completeExceptionally(failure);
      }
    }
  }
}
