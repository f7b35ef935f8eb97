package io.mysimbdp.node.stream;

import akka.actor.Cancellable;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import com.typesafe.config.Config;
import io.mysimbdp.node.report.TenantMeter;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The tenant streams started on this node: how many it takes ({@code max-streams-per-node}, and no
 * new one while its consumers hold more than {@code max-consumer-bytes}), and the one timer that
 * checks every started stream's prefetch ({@link PrefetchPolicy}) every
 * {@code prefetch-check-interval}, telling only those whose prefetch should change. An idle stream
 * costs no timer and no message.
 */
public final class NodeStreams implements akka.actor.typed.Extension {
  public static final ExtensionId<NodeStreams> ID =
      new ExtensionId<>() {
        @Override
        public NodeStreams createExtension(ActorSystem<?> system) {
          return new NodeStreams(system);
        }
      };

  public static NodeStreams get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  /** What a running consumer shares with the node: its prefetch, and the bytes it holds. */
  static final class Started {
    final ActorRef<StreamIngestor.Command> ingestor;
    /** The tenant's meter (its entity's): the records per message it measures. */
    final TenantMeter meter;
    /** Bytes of deliveries taken from the broker and not yet acked (what this consumer holds). */
    final AtomicLong bytesHeld = new AtomicLong();
    /** The running consumer's prefetch (0: none running). */
    volatile int prefetch;
    /** When its prefetch last changed (null: never, on this node). */
    volatile Instant lastChange;
    /** Bytes per AMQP message lately (moving average; 0: none yet). */
    private volatile double bytesPerMessage;

    Started(ActorRef<StreamIngestor.Command> ingestor, TenantMeter meter) {
      this.ingestor = ingestor;
      this.meter = meter;
    }

    double bytesPerMessage() {
      return bytesPerMessage;
    }

    /** A delivery of {@code bytes} taken: counted held and into the average (larger ones count at once). */
    void took(long bytes) {
      bytesHeld.addAndGet(bytes);
      double before = bytesPerMessage;
      bytesPerMessage = before == 0 || bytes > before ? Math.max(before, bytes) : 0.05 * bytes + 0.95 * before;
    }

    void acked(long bytes) {
      bytesHeld.addAndGet(-bytes);
    }

    /** Whether {@code policy} would give the running consumer another prefetch now (none running: no). */
    boolean wantsOtherPrefetch(PrefetchPolicy policy, Instant now) {
      int current = prefetch;
      if (current == 0) {
        return false;
      }
      Instant changed = lastChange;
      Duration since = changed == null ? PrefetchPolicy.NEVER_CHANGED : Duration.between(changed, now);
      return policy.revise(current, meter.recordsPerMessage(), bytesPerMessage, since).isPresent();
    }

    void seedBytesPerMessage(double bytes) {
      if (bytesPerMessage == 0 && bytes > 0) {
        bytesPerMessage = bytes;
      }
    }
  }

  /** Why this node takes no other stream now (an {@code ApiError} code and its message). */
  public record Refusal(String code, String message) {}

  /** The prefix of a start refused for capacity, as {@code StatusReply.error} carries it across nodes. */
  public static final String AT_CAPACITY = "node_at_capacity: ";

  private final ActorSystem<?> system;
  private final int maxStreams;
  private final long maxConsumerBytes;
  private final PrefetchPolicy policy;
  private final Map<String, Started> started = new ConcurrentHashMap<>();
  private final Cancellable ticks;
  private final AtomicLong checksMade = new AtomicLong();

  private NodeStreams(ActorSystem<?> system) {
    this.system = system;
    Config consume = system.settings().config().getConfig("mysimbdp.stream.consume");
    this.maxStreams = maxStreams(consume, Runtime.getRuntime().maxMemory());
    org.slf4j.LoggerFactory.getLogger(NodeStreams.class).info("this node takes up to {} tenant streams ({})", maxStreams,
        consume.getString("max-streams-per-node").equals("auto")
            ? "auto: " + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MB of heap, " + consume.getBytes("heap-per-stream") / 1024 + " KB a stream"
            : "mysimbdp.stream.consume.max-streams-per-node");
    this.maxConsumerBytes = consume.getBytes("max-consumer-bytes");
    StreamSettings settings = StreamSettings.from(system.settings().config());
    this.policy = PrefetchPolicy.from(settings);
    Duration every = settings.prefetchCheckInterval();
    this.ticks = system.scheduler().scheduleWithFixedDelay(every, every, this::checkPrefetches, system.executionContext());
    akka.actor.CoordinatedShutdown.get(system)
        .addTask(akka.actor.CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "stop-stream-prefetch-checks", () -> {
          ticks.cancel();
          return java.util.concurrent.CompletableFuture.completedFuture(akka.Done.getInstance());
        });
  }

  /**
   * How many streams the node takes: the configured number, or with {@code auto} as many as its
   * heap holds — the heap a started stream takes with its tenant ({@code heap-per-stream}, measured
   * with the embedded store and broker in the same heap: docs/benchmarks.md), into the heap left
   * after a reserve for the node itself and the bytes in flight (a quarter of it, at least 256 MB).
   * A node then refuses a stream (503) rather than run out of memory.
   */
  static int maxStreams(Config consume, long maxHeapBytes) {
    if (!consume.getString("max-streams-per-node").equals("auto")) {
      return consume.getInt("max-streams-per-node");
    }
    return autoCapacity(maxHeapBytes, consume.getBytes("heap-per-stream"));
  }

  static int autoCapacity(long maxHeapBytes, long heapPerStream) {
    long reserve = Math.max(256L << 20, maxHeapBytes / 4);
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (maxHeapBytes - reserve) / Math.max(1, heapPerStream)));
  }

  /**
   * Takes the tenant's stream on this node, or says why not. Taking a tenant that is already here
   * (a consumer started again with a new prefetch) always succeeds.
   */
  synchronized Either admit(String tenantId, ActorRef<StreamIngestor.Command> ingestor, TenantMeter meter) {
    Started existing = started.get(tenantId);
    if (existing != null && existing.ingestor.equals(ingestor)) {
      return new Either(existing, null);
    }
    if (started.size() >= maxStreams) {
      return new Either(null, new Refusal("node_at_capacity",
          "this node runs " + started.size() + " tenant streams, its maximum (mysimbdp.stream.consume.max-streams-per-node, "
              + "from its heap unless set); retry later"));
    }
    long held = bytesHeld();
    if (held > maxConsumerBytes) {
      return new Either(null, new Refusal("node_at_capacity",
          "this node's stream consumers hold " + held + " bytes, over its budget of " + maxConsumerBytes
              + " (mysimbdp.stream.consume.max-consumer-bytes); retry later"));
    }
    Started entry = new Started(ingestor, meter);
    started.put(tenantId, entry);
    return new Either(entry, null);
  }

  /** A taken stream, or the reason it was not taken. */
  record Either(Started started, Refusal refusal) {}

  /** The tenant's stream no longer runs here (stopped, handed off, its worker gone). */
  void leave(String tenantId, ActorRef<StreamIngestor.Command> ingestor) {
    started.computeIfPresent(tenantId, (id, entry) -> entry.ingestor.equals(ingestor) ? null : entry);
  }

  /** Streams started on this node. */
  public int startedStreams() {
    return started.size();
  }

  /** Bytes every consumer on this node holds now (taken from the broker, not yet acked). */
  public long bytesHeld() {
    long sum = 0;
    for (Started s : started.values()) {
      sum += s.bytesHeld.get();
    }
    return sum;
  }

  PrefetchPolicy policy() {
    return policy;
  }

  /** The one prefetch check of the node: tells only the streams whose prefetch should change. */
  private void checkPrefetches() {
    Instant now = Instant.now();
    started.forEach((tenantId, s) -> {
      if (s.wantsOtherPrefetch(policy, now)) {
        s.ingestor.tell(StreamIngestor.CheckPrefetch.INSTANCE);
      }
    });
    checksMade.incrementAndGet();
  }

  /** Prefetch checks this node has made so far (each looked at every started stream). */
  long prefetchChecksMade() {
    return checksMade.get();
  }

  /** When the tenant's prefetch last changed on this node (empty: never, or not started here). */
  Optional<Instant> lastPrefetchChange(String tenantId) {
    return Optional.ofNullable(started.get(tenantId)).map(s -> s.lastChange);
  }
}
