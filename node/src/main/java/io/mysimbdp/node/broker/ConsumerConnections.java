package io.mysimbdp.node.broker;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import akka.stream.alpakka.amqp.AmqpConnectionProvider;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Consumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import com.typesafe.config.Config;
import io.mysimbdp.node.DaemonThreads;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's consuming connections: every started tenant stream consumes on a channel of its own
 * over a few shared AMQP connections, so threads and open files do not grow with the tenants (a
 * connection costs a reader thread and a socket; the consumer dispatch and heartbeat threads are
 * shared by all of them). A connection carries up to {@code channels-per-connection} channels (and
 * never more than the broker's negotiated channel-max); the next one is opened when they are taken.
 *
 * <p>Each stream incarnation takes a {@link Lease}: Alpakka's source creates its channel through it,
 * and closing the lease closes exactly that channel (its un-acked deliveries return to the queue),
 * never the connection. A channel error (queue deleted, a refused ack) closes only that channel.
 * A connection that dies fails every channel on it; each stream restarts with its own (jittered)
 * back-off and the first one to ask opens a new connection. While the broker refuses connections,
 * a failed attempt is not repeated for {@code reconnect-pause}: thousands of restarting streams
 * cost one connection attempt per pause, not one each.
 */
public final class ConsumerConnections implements Extension {
  private static final Logger log = LoggerFactory.getLogger(ConsumerConnections.class);

  public static final ExtensionId<ConsumerConnections> ID =
      new ExtensionId<>() {
        @Override
        public ConsumerConnections createExtension(ActorSystem<?> system) {
          return new ConsumerConnections(system);
        }
      };

  public static ConsumerConnections get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  /** One connection and the channels leased on it (counted from lease to release). */
  private static final class Shared {
    final Connection connection;
    final int capacity;
    final AtomicInteger leased = new AtomicInteger();

    Shared(Connection connection, int capacity) {
      this.connection = connection;
      this.capacity = capacity;
    }
  }

  private final ConnectionFactory factory;
  /** Connections are named after the node, so a broker's operator sees whose they are. */
  private final String namePrefix;
  private final int channelsPerConnection;
  private final long reconnectPauseNanos;
  private final Executor blocking;
  private final ExecutorService dispatch;
  private final ScheduledExecutorService heartbeats;
  private final List<Shared> connections = new ArrayList<>();
  private int opened;
  private long refusedUntil;
  private RuntimeException lastRefusal;
  private boolean closed;

  private ConsumerConnections(ActorSystem<?> system) {
    Config consume = system.settings().config().getConfig("mysimbdp.stream.consume");
    this.channelsPerConnection = consume.getInt("channels-per-connection");
    this.reconnectPauseNanos = consume.getDuration("reconnect-pause").toNanos();
    int dispatchThreads = consume.getInt("dispatch-threads");
    if (channelsPerConnection < 1 || dispatchThreads < 1) {
      throw new IllegalArgumentException("mysimbdp.stream.consume.channels-per-connection and dispatch-threads must be at least 1");
    }
    this.namePrefix = "mysimbdp-consume-" + system.address().getHost().orElse("local") + ":"
        + system.address().getPort().map(String::valueOf).orElse("0") + "-";
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.dispatch = Executors.newFixedThreadPool(dispatchThreads, DaemonThreads.named("mysimbdp-amqp-dispatch-"));
    this.heartbeats = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("mysimbdp-amqp-heartbeat-"));
    this.factory = Broker.get(system).connectionFactory();
    // Deliveries of every channel go through one bounded pool (Alpakka only hands them to its
    // stage), and one thread sends every connection's heartbeats: neither grows with connections.
    factory.setSharedExecutor(dispatch);
    factory.setHeartbeatExecutor(heartbeats);
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "close-amqp-consumer-connections",
            () -> CompletableFuture.supplyAsync(() -> {
              close();
              return Done.getInstance();
            }, blocking));
  }

  /** A lease for one stream incarnation (one channel); {@code name} shows in logs. */
  public Lease lease(String name) {
    return new Lease(name);
  }

  /** What every consumer connection of this node is named (then a number). */
  public String connectionNamePrefix() {
    return namePrefix;
  }

  /** Connections open now (for tests and monitoring). */
  public synchronized int openConnections() {
    return (int) connections.stream().filter(s -> s.connection.isOpen()).count();
  }

  /** Channels leased now, over all connections. */
  public synchronized int leasedChannels() {
    return connections.stream().mapToInt(s -> s.leased.get()).sum();
  }

  /** A connection with a free channel, opened if none has one. */
  private synchronized Shared take() {
    if (closed) {
      throw new IllegalStateException("the node's AMQP consumer connections are closed");
    }
    connections.removeIf(s -> !s.connection.isOpen() && s.leased.get() <= 0);
    for (Shared s : connections) {
      if (s.connection.isOpen() && s.leased.get() < s.capacity) {
        s.leased.incrementAndGet();
        return s;
      }
    }
    long now = System.nanoTime();
    if (lastRefusal != null && now - refusedUntil < 0) {
      throw lastRefusal;
    }
    try {
      Connection c = factory.newConnection(namePrefix + (++opened));
      int max = c.getChannelMax();
      // Channel 0 is the connection's own; a broker that negotiated 0 sets no limit.
      int capacity = max <= 0 ? channelsPerConnection : Math.min(channelsPerConnection, max - 1);
      Shared s = new Shared(c, Math.max(1, capacity));
      connections.add(s);
      lastRefusal = null;
      log.info("opened AMQP consumer connection {} ({} channels at most; {} connection(s) open)", c.getClientProvidedName(), s.capacity,
          connections.size());
      s.leased.incrementAndGet();
      return s;
    } catch (IOException | TimeoutException | RuntimeException e) {
      lastRefusal = new IllegalStateException("could not connect to the AMQP broker: " + e, e);
      refusedUntil = now + reconnectPauseNanos;
      throw lastRefusal;
    }
  }

  private synchronized void close() {
    closed = true;
    for (Shared s : connections) {
      try {
        if (s.connection.isOpen()) {
          s.connection.close(5000);
        }
      } catch (IOException | RuntimeException e) {
        s.connection.abort(1000);
      }
    }
    connections.clear();
    dispatch.shutdown();
    heartbeats.shutdown();
  }

  /**
   * One channel on a shared connection, for one Alpakka source: {@link #get} hands the source a view
   * of the connection that records the channel it creates; {@link #release} (the source's end) and
   * {@link #close} (from outside: drain finished, abort) close that channel only.
   */
  public final class Lease implements AmqpConnectionProvider {
    private final String name;
    private final AtomicReference<Shared> shared = new AtomicReference<>();
    private final AtomicReference<Channel> channel = new AtomicReference<>();
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile boolean closing;

    private Lease(String name) {
      this.name = name;
    }

    @Override
    public Connection get() {
      if (closing) {
        throw new IllegalStateException("the stream " + name + " stopped before it connected");
      }
      Shared s = take();
      shared.set(s);
      return (Connection) Proxy.newProxyInstance(
          Connection.class.getClassLoader(),
          new Class<?>[] {Connection.class},
          (proxy, method, args) -> {
            try {
              Object result = method.invoke(s.connection, args);
              if (result instanceof Channel c && method.getName().equals("createChannel")) {
                channel.set(c);
                if (closing) {
                  closeChannel();
                }
                return watchingCancels(c);
              }
              return result;
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          });
    }

    /**
     * The channel as the source sees it, except that a consumer it starts is watched: when the
     * broker cancels it (its queue was deleted), the channel is closed. Alpakka's source would
     * otherwise wait for the acks of every delivery it took before it ends, and it counts one per
     * ack call where the pipeline acks a batch with one: it would wait for ever, on a queue that
     * is gone. Closed, the source fails, the stream restarts and declares the queue again.
     */
    private Channel watchingCancels(Channel c) {
      return (Channel) Proxy.newProxyInstance(
          Channel.class.getClassLoader(),
          new Class<?>[] {Channel.class},
          (proxy, method, args) -> {
            if (method.getName().equals("basicConsume") && args != null) {
              for (int i = 0; i < args.length; i++) {
                if (args[i] instanceof Consumer consumer) {
                  args[i] = new CancelWatchingConsumer(consumer);
                }
              }
            }
            try {
              return method.invoke(c, args);
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          });
    }

    /** A consumer that closes the lease's channel when the broker cancels it, after telling the source. */
    private final class CancelWatchingConsumer implements Consumer {
      private final Consumer delegate;

      CancelWatchingConsumer(Consumer delegate) {
        this.delegate = delegate;
      }

      @Override
      public void handleCancel(String consumerTag) throws IOException {
        delegate.handleCancel(consumerTag);
        log.warn("{}: the broker cancelled its consumer (its queue was deleted?); closing its channel so that it starts again", name);
        // Not on this thread: a channel is not closed from its own consumer's callback.
        CompletableFuture.runAsync(Lease.this::closeChannel, blocking);
      }

      @Override
      public void handleConsumeOk(String consumerTag) {
        delegate.handleConsumeOk(consumerTag);
      }

      @Override
      public void handleCancelOk(String consumerTag) {
        delegate.handleCancelOk(consumerTag);
      }

      @Override
      public void handleShutdownSignal(String consumerTag, ShutdownSignalException sig) {
        delegate.handleShutdownSignal(consumerTag, sig);
      }

      @Override
      public void handleRecoverOk(String consumerTag) {
        delegate.handleRecoverOk(consumerTag);
      }

      @Override
      public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) throws IOException {
        delegate.handleDelivery(consumerTag, envelope, properties, body);
      }
    }

    @Override
    public void release(Connection connection) {
      closeChannel();
      giveBack();
    }

    /**
     * Closes the channel (gracefully, after the acks sent on it; un-acked deliveries go back to the
     * queue); the source then fails on its own and releases the lease.
     */
    public void close() {
      closing = true;
      if (channel.get() != null) {
        CompletableFuture.runAsync(this::closeChannel, blocking);
      }
    }

    private void closeChannel() {
      Channel c = channel.getAndSet(null);
      if (c == null) {
        return;
      }
      try {
        if (c.isOpen()) {
          c.close();
        }
      } catch (IOException | TimeoutException | RuntimeException e) {
        try {
          c.abort();
        } catch (IOException | RuntimeException ignored) {
          // the connection is gone: so is the channel
        }
      }
    }

    private void giveBack() {
      Shared s = shared.get();
      if (s != null && released.compareAndSet(false, true)) {
        s.leased.decrementAndGet();
      }
    }

    @Override
    public String toString() {
      return "ConsumerConnections.Lease(" + name + ")";
    }
  }
}
