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
import com.rabbitmq.client.Return;
import io.mysimbdp.node.DaemonThreads;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes tenants' messages to their exchanges from this node, with publisher confirms: a
 * publish completes only once the broker confirmed every AMQP message of it. A few long-lived
 * channels on one connection (reopened on demand) carry every tenant's messages.
 *
 * <p>Nothing is buffered without bound: messages published and not yet confirmed are counted, in
 * messages and in bytes, per node and per tenant; beyond either limit a publish is refused at once
 * ({@link Refused}), and so is a publish the broker nacks (a full tenant queue). The caller turns
 * that into 429/503 with {@code Retry-After}.
 *
 * <p>The AMQP client blocks ({@code basicPublish} under the broker's flow control, until the
 * broker lifts it), so publishing runs on threads of its own ({@link PublishLimits#threads()}),
 * never on the blocking dispatcher that consumers, readiness checks and batch parsing share.
 * Publishes waiting for those threads are bounded in count and bytes: a stalled broker makes new
 * publishes fail fast (503) instead of piling up.
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
      BROKER_UNAVAILABLE(503, "broker_unavailable"),
      /** The broker routed the message to no queue: the tenant's queue was deleted (same answer to the client). */
      NO_QUEUE(503, "broker_unavailable");

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

  /** Messages and bytes held; what a publish takes from a budget and gives back. */
  private record Usage(long count, long bytes) {
    Usage plus(Usage other) {
      return new Usage(count + other.count, bytes + other.bytes);
    }

    Usage minus(Usage other) {
      return new Usage(count - other.count, bytes - other.bytes);
    }

    boolean within(long maxCount, long maxBytes) {
      return count <= maxCount && bytes <= maxBytes;
    }
  }

  /** A node-wide budget of messages and bytes. */
  private static final class Budget {
    private final long maxCount;
    private final long maxBytes;
    private Usage used = new Usage(0, 0);

    Budget(long maxCount, long maxBytes) {
      this.maxCount = maxCount;
      this.maxBytes = maxBytes;
    }

    synchronized boolean tryAcquire(Usage usage) {
      Usage next = used.plus(usage);
      if (!next.within(maxCount, maxBytes)) {
        return false;
      }
      used = next;
      return true;
    }

    synchronized void release(Usage usage) {
      used = used.minus(usage);
    }
  }

  private final StreamSettings settings;
  private final PublishLimits limits;
  private final ConnectionFactory factory;
  private final Executor blocking;
  private final ExecutorService publishing;
  private final Budget nodeInFlight;
  private final Budget waiting;
  /** Only tenants with publishes in flight have an entry: an idle tenant costs nothing here. */
  private final Map<String, Usage> tenantInFlight = new ConcurrentHashMap<>();
  private final ConfirmChannel[] channels;
  private final AtomicLong next = new AtomicLong();
  private Connection connection;
  /** Told the exchange of a message the broker routed to no queue (its tenant's queue was deleted). */
  private volatile java.util.function.Consumer<String> noQueue = exchange -> {};

  private StreamPublisher(ActorSystem<?> system) {
    this(system, Broker.get(system).connectionFactory());
  }

  /** With another connection factory (a test's stalled broker). */
  StreamPublisher(ActorSystem<?> system, ConnectionFactory factory) {
    this.settings = StreamSettings.from(system.settings().config());
    this.limits = PublishLimits.from(system.settings().config());
    this.factory = factory;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.publishing = Executors.newFixedThreadPool(limits.threads(), DaemonThreads.named(system.name() + "-amqp-publisher-"));
    this.nodeInFlight = new Budget(settings.maxInFlight(), limits.maxInFlightBytes());
    this.waiting = new Budget(limits.maxWaiting(), limits.maxWaitingBytes());
    this.channels = new ConfirmChannel[settings.publishChannels()];
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "close-amqp-publisher",
            () -> CompletableFuture.supplyAsync(() -> {
              close();
              return Done.getInstance();
            }, blocking));
  }

  /** Stops publishing: the connection aborted (which unblocks a blocked publish), the threads ended. */
  void close() {
    closeConnection();
    publishing.shutdownNow();
  }

  /**
   * Publishes {@code messages} to the tenant's exchange as persistent messages; completes once
   * the broker confirmed them all, or fails with {@link Refused}.
   */
  public CompletionStage<Void> publish(String tenantId, List<Outgoing> messages) {
    Usage usage = new Usage(messages.stream().mapToInt(Outgoing::count).sum(), messages.stream().mapToLong(m -> m.body().length).sum());
    Usage queued = new Usage(1, usage.bytes()); // waiting publishes are counted as publishes, not as records
    if (!waiting.tryAcquire(queued)) {
      return CompletableFuture.failedFuture(
          new Refused(Refused.Reason.NODE_BUSY, "this node's publishes are waiting for the broker (flow control or a slow broker); retry later"));
    }
    if (!tryAcquireTenant(tenantId, usage)) {
      waiting.release(queued);
      return CompletableFuture.failedFuture(
          new Refused(Refused.Reason.TENANT_QUOTA, "tenant '" + tenantId + "' has more than " + settings.maxInFlightPerTenant() + " messages or "
              + limits.maxInFlightBytesPerTenant() + " bytes awaiting the broker's confirmation; retry later"));
    }
    if (!nodeInFlight.tryAcquire(usage)) {
      waiting.release(queued);
      releaseTenant(tenantId, usage);
      return CompletableFuture.failedFuture(
          new Refused(Refused.Reason.NODE_BUSY, "this node has too many messages awaiting the broker's confirmation; retry later"));
    }
    String exchange = settings.exchange(tenantId);
    CompletableFuture<Void> confirmed = new CompletableFuture<>();
    Runnable publishing = () -> {
      try {
        if (!confirmed.isDone()) { // else it timed out while waiting: the client was told to retry
          publishNow(exchange, messages).whenComplete((ok, failure) -> complete(confirmed, failure));
        }
      } catch (Throwable e) {
        confirmed.completeExceptionally(e);
      } finally {
        waiting.release(queued);
      }
    };
    try {
      this.publishing.execute(publishing);
    } catch (RejectedExecutionException e) {
      waiting.release(queued);
      confirmed.completeExceptionally(new IOException("the publisher is shut down"));
    }
    return confirmed
        .orTimeout(settings.confirmTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((ok, failure) -> {
          nodeInFlight.release(usage);
          releaseTenant(tenantId, usage);
        })
        .exceptionally(failure -> {
          throw new CompletionException(classify(tenantId, failure));
        });
  }

  private boolean tryAcquireTenant(String tenantId, Usage usage) {
    boolean[] acquired = {false};
    tenantInFlight.compute(tenantId, (id, used) -> {
      Usage next = used == null ? usage : used.plus(usage);
      if (!next.within(settings.maxInFlightPerTenant(), limits.maxInFlightBytesPerTenant())) {
        return used;
      }
      acquired[0] = true;
      return next;
    });
    return acquired[0];
  }

  private void releaseTenant(String tenantId, Usage usage) {
    tenantInFlight.computeIfPresent(tenantId, (id, used) -> {
      Usage next = used.minus(usage);
      return next.count() <= 0 && next.bytes() <= 0 ? null : next;
    });
  }

  private static void complete(CompletableFuture<Void> f, Throwable failure) {
    if (failure == null) {
      f.complete(null);
    } else {
      f.completeExceptionally(failure);
    }
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
      ConfirmChannel fresh = new ConfirmChannel(connection.createChannel(), exchange -> noQueue.accept(exchange));
      channels[slot] = fresh;
      return fresh;
    }
  }

  /**
   * Who learns that a message was routed to no queue, by its exchange: the broker returns it, before
   * its ack (RabbitMQ: the publish fails as {@link Refused.Reason#NO_QUEUE}) or after its nack (Qpid:
   * the publish has already failed as a full queue). Either way the tenant's queue is gone.
   */
  public void onNoQueue(java.util.function.Consumer<String> listener) {
    this.noQueue = listener;
  }

  private void closeConnection() {
    synchronized (channels) {
      if (connection != null) {
        connection.abort(2000);
        connection = null;
      }
    }
  }

  /**
   * A channel in confirm mode, and the confirmations it awaits by sequence number. Messages are
   * published mandatory: the embedded Qpid broker refuses a message for a full queue by returning
   * it (506) and nacking it (without mandatory it drops the message and acks it: a publish
   * answered 202 and lost), and a message no queue takes (the queue deleted) comes back from either
   * broker (RabbitMQ: before its ack, so it fails instead of being confirmed; Qpid: after its nack),
   * and {@code noRoute} is told its exchange.
   */
  private static final class ConfirmChannel {
    /** The Qpid reply code of a message returned because the queue is full (RESOURCE_ERROR). */
    private static final int RESOURCE_ERROR = 506;
    /** The reply code of a mandatory message no queue took. */
    private static final int NO_ROUTE = 312;

    /** A message awaiting its confirmation; {@code returned} is set when the broker returned it. */
    private static final class Pending {
      final CompletableFuture<Void> confirmed = new CompletableFuture<>();
      final String messageId;
      volatile Refused returned;

      Pending(String messageId) {
        this.messageId = messageId;
      }
    }

    final Channel channel;
    final ConcurrentNavigableMap<Long, Pending> pending = new ConcurrentSkipListMap<>();
    private final java.util.function.Consumer<String> noRoute;

    ConfirmChannel(Channel channel, java.util.function.Consumer<String> noRoute) throws IOException {
      this.channel = channel;
      this.noRoute = noRoute;
      channel.confirmSelect();
      channel.addConfirmListener((tag, multiple) -> settle(tag, multiple, null), (tag, multiple) -> settle(tag, multiple,
          new Refused(Refused.Reason.QUEUE_FULL, "the tenant's queue is full (the broker refused the message); retry later")));
      channel.addReturnListener(this::returned);
      channel.addShutdownListener(
          cause -> {
            IOException closed = new IOException("the publishing channel closed: " + cause.getMessage());
            pending.values().forEach(p -> p.confirmed.completeExceptionally(closed));
            pending.clear();
          });
    }

    /** Publishes; the caller holds this channel's lock. */
    CompletableFuture<Void> publish(String exchange, AMQP.BasicProperties properties, byte[] body) {
      Pending waiting = new Pending(properties.getMessageId());
      long seq = channel.getNextPublishSeqNo();
      pending.put(seq, waiting);
      try {
        channel.basicPublish(exchange, "", true, properties, body);
      } catch (IOException | RuntimeException e) {
        pending.remove(seq);
        waiting.confirmed.completeExceptionally(e);
      }
      return waiting.confirmed;
    }

    /** A return comes before the message's ack or nack: marks the oldest such message unconfirmed. */
    private void returned(Return r) {
      if (r.getReplyCode() == NO_ROUTE) {
        noRoute.accept(r.getExchange());
      }
      String id = r.getProperties().getMessageId();
      for (Pending p : pending.values()) {
        if (p.returned == null && java.util.Objects.equals(id, p.messageId)) {
          p.returned = r.getReplyCode() == RESOURCE_ERROR
              ? new Refused(Refused.Reason.QUEUE_FULL, "the tenant's queue is full (the broker refused the message); retry later")
              : new Refused(Refused.Reason.NO_QUEUE, "the broker routed the message to no queue (" + r.getReplyText() + "); retry later");
          return;
        }
      }
    }

    private void settle(long tag, boolean multiple, Throwable failure) {
      if (multiple) {
        ConcurrentNavigableMap<Long, Pending> settled = pending.headMap(tag, true);
        settled.values().forEach(p -> complete(p.confirmed, p.returned != null ? p.returned : failure));
        settled.clear();
      } else {
        Pending p = pending.remove(tag);
        if (p != null) {
          complete(p.confirmed, p.returned != null ? p.returned : failure);
        }
      }
    }
  }
}
