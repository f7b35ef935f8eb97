package io.mysimbdp.node.stream;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import akka.http.javadsl.Http;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.headers.BasicHttpCredentials;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import io.mysimbdp.node.broker.Broker;
import io.mysimbdp.protocol.BrokerCredentials;
import io.mysimbdp.protocol.ProtocolJson;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each tenant's broker topology, declared by the platform (idempotently: when the tenant is
 * created, and again the first time a node publishes or consumes for it):
 *
 * <pre>
 *   exchange E (fanout, durable) ──► queue Q (durable, single active consumer, bounded,
 *                                          dead-letters to D)
 *   exchange D (fanout, durable) ──► queue D (durable)
 * </pre>
 *
 * On RabbitMQ the queue arguments are {@code x-single-active-consumer}, {@code x-dead-letter-exchange},
 * {@code x-max-length} and {@code x-max-length-bytes} with {@code x-overflow=reject-publish} (a
 * full queue, in messages or in bytes, nacks publishes). The embedded Qpid broker refuses those
 * RabbitMQ-only arguments, so there the same intent is spelled {@code alternateExchange},
 * {@code qpid.max_count}, {@code qpid.max_size} and {@code qpid.policy_type=reject}.
 *
 * <p>A queue declared earlier with other arguments (before the byte bound existed, or with another
 * {@code max-queue-length}) is kept as it is: RabbitMQ answers a redeclaration with different
 * arguments with a channel error (406 PRECONDITION_FAILED), and a queue's arguments cannot change
 * without deleting it and the messages in it. The current bounds then reach it through a RabbitMQ
 * policy ({@code <prefix>queue-bounds}, on the tenant queues, not the dead-letter ones), put once per
 * node through the management API; for {@code max-length} and {@code max-length-bytes} RabbitMQ
 * applies the lower of the policy's and the queue's own value. Without a management URI such a
 * queue keeps the bounds it was declared with (a warning says so).
 *
 * <p>With a management URI (RabbitMQ's management plugin) it also creates a broker user per tenant
 * that may publish to the tenant's exchange only: no configure, no read, no other exchange.
 */
public final class StreamTopology implements Extension {
  private static final Logger log = LoggerFactory.getLogger(StreamTopology.class);
  private static final Duration MANAGEMENT_TIMEOUT = Duration.ofSeconds(10);

  public static final ExtensionId<StreamTopology> ID =
      new ExtensionId<>() {
        @Override
        public StreamTopology createExtension(ActorSystem<?> system) {
          return new StreamTopology(system);
        }
      };

  public static StreamTopology get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  private final ActorSystem<?> system;
  private final StreamSettings settings;
  private final Broker broker;
  private final Executor blocking;
  private final Set<String> declared = ConcurrentHashMap.newKeySet();
  private final PublishLimits limits;
  /** The queue-bounds policy, put once per node when an older queue is first met. */
  private volatile CompletionStage<Void> queuePolicy;
  private final SecureRandom random = new SecureRandom();

  private StreamTopology(ActorSystem<?> system) {
    this.system = system;
    this.settings = StreamSettings.from(system.settings().config());
    this.broker = Broker.get(system);
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.limits = PublishLimits.from(system.settings().config());
  }

  public StreamSettings settings() {
    return settings;
  }

  /** Whether the broker has a user per tenant (RabbitMQ with its management API): tenants may then publish to it directly. */
  public boolean hasTenantUsers() {
    return settings.managementUri().isPresent();
  }

  /** Declares the tenant's topology once per node (again after {@link #forget}). */
  public CompletionStage<Void> ensure(String tenantId) {
    if (declared.contains(tenantId)) {
      return CompletableFuture.completedFuture(null);
    }
    return declare(tenantId).thenRun(() -> declared.add(tenantId));
  }

  /** Makes the next {@link #ensure} declare again (after the broker refused something). */
  public void forget(String tenantId) {
    declared.remove(tenantId);
  }

  /** Declares the tenant's exchanges, queues and bindings; idempotent. */
  public CompletionStage<Void> declare(String tenantId) {
    return CompletableFuture.supplyAsync(
            () -> declareNow(tenantId),
            blocking)
        .thenCompose(keptOlder -> keptOlder ? ensureQueuePolicy(tenantId) : CompletableFuture.completedFuture(null));
  }

  /** Declares; answers whether the tenant's queue was declared earlier with other arguments (RabbitMQ). */
  private boolean declareNow(String tenantId) {
    boolean keptOlder = false;
    try {
      Connection connection = broker.controlConnection();
      boolean rabbit = isRabbitMq(connection);
      Channel channel = connection.createChannel();
      try {
        String dead = settings.deadLetterExchange(tenantId);
        channel.exchangeDeclare(dead, "fanout", true);
        channel.queueDeclare(settings.deadLetterQueue(tenantId), true, false, false, Map.of());
        channel.queueBind(settings.deadLetterQueue(tenantId), dead, "");

        Map<String, Object> arguments = new HashMap<>();
        arguments.put("x-single-active-consumer", true);
        if (rabbit) {
          arguments.put("x-dead-letter-exchange", dead);
          arguments.put("x-max-length", settings.maxQueueLength());
          arguments.put("x-max-length-bytes", limits.maxQueueBytes());
          arguments.put("x-overflow", "reject-publish");
        } else {
          arguments.put("alternateExchange", dead);
          arguments.put("qpid.max_count", settings.maxQueueLength());
          arguments.put("qpid.max_size", limits.maxQueueBytes());
          arguments.put("qpid.policy_type", "reject");
        }
        String exchange = settings.exchange(tenantId);
        channel.exchangeDeclare(exchange, "fanout", true);
        try {
          channel.queueDeclare(settings.queue(tenantId), true, false, false, arguments);
        } catch (IOException e) {
          if (!isPreconditionFailed(e)) {
            throw e;
          }
          // declared earlier with other arguments: keep it (the error closed the channel)
          keptOlder = true;
          channel = connection.createChannel();
          channel.queueDeclarePassive(settings.queue(tenantId));
        }
        channel.queueBind(settings.queue(tenantId), exchange, "");
      } finally {
        closeQuietly(channel);
      }
      log.debug("declared the stream topology of tenant {}", tenantId);
    } catch (IOException e) {
      log.warn("could not declare the stream topology of tenant {}: {}", tenantId, e.toString());
      throw new CompletionException(e);
    }
    return keptOlder;
  }

  /** Whether the broker refused a declaration as inequivalent to the existing one (406). */
  static boolean isPreconditionFailed(IOException e) {
    return e.getCause() instanceof ShutdownSignalException signal
        && signal.getReason() instanceof AMQP.Channel.Close close
        && close.getReplyCode() == AMQP.PRECONDITION_FAILED;
  }

  /** The name of the policy that bounds tenant queues declared with other arguments. */
  public String queuePolicyName() {
    return settings.namePrefix() + "queue-bounds";
  }

  /**
   * Puts (once per node) the policy that brings the current bounds to tenant queues declared with
   * other arguments; never fails the declaration (the queue works, its older bounds hold).
   */
  private CompletionStage<Void> ensureQueuePolicy(String tenantId) {
    if (settings.managementUri().isEmpty()) {
      log.warn("the queue of tenant {} was declared earlier with other arguments and is kept as it is; without a "
          + "management URI (AMQP_MANAGEMENT_URI) its bounds stay the ones it was declared with", tenantId);
      return CompletableFuture.completedFuture(null);
    }
    CompletionStage<Void> current = queuePolicy;
    if (current != null) {
      return current;
    }
    Management management = management();
    String base = management.base();
    BasicHttpCredentials credentials = management.credentials();
    String vhost = URLEncoder.encode(broker.connectionFactory().getVirtualHost(), StandardCharsets.UTF_8);
    Map<String, Object> policy = Map.of(
        // the tenant queues, not their dead-letter queues (a full one would drop dead letters)
        "pattern", "^" + regexQuote(settings.namePrefix()) + ".*(?<!\\.dead)$",
        "apply-to", "queues",
        "priority", 0,
        "definition", Map.of("max-length", settings.maxQueueLength(), "max-length-bytes", limits.maxQueueBytes(), "overflow", "reject-publish"));
    CompletionStage<Void> put =
        put(base + "/api/policies/" + vhost + "/" + URLEncoder.encode(queuePolicyName(), StandardCharsets.UTF_8), policy, credentials)
            .handle((ok, failure) -> {
              if (failure != null) {
                queuePolicy = null; // try again with the next older queue
                log.warn("could not put the queue-bounds policy for queues declared earlier (tenant {}'s): {}", tenantId, failure.toString());
              } else {
                log.info("tenant {}'s queue was declared earlier with other arguments: kept, bounded by policy {}", tenantId, queuePolicyName());
              }
              return null;
            });
    queuePolicy = put;
    return put;
  }

  /** Messages ready in the tenant's queue, or -1 when the broker does not answer. */
  public CompletionStage<Long> lag(String tenantId) {
    return CompletableFuture.supplyAsync(
            () -> {
              try {
                Channel channel = broker.controlConnection().createChannel();
                try {
                  return (long) channel.queueDeclarePassive(settings.queue(tenantId)).getMessageCount();
                } finally {
                  closeQuietly(channel);
                }
              } catch (IOException | RuntimeException e) {
                log.debug("could not read the queue length of tenant {}: {}", tenantId, e.toString());
                return -1L;
              }
            },
            blocking)
        .exceptionally(e -> -1L);
  }

  /**
   * Messages ready in each of these tenants' queues (-1 where the broker does not answer or the
   * queue does not exist yet): one blocking task and one channel for all of them (a passive declare
   * of a missing queue closes the channel: a new one is opened for the rest).
   */
  public CompletionStage<Map<String, Long>> lags(java.util.Collection<String> tenantIds) {
    if (tenantIds.isEmpty()) {
      return CompletableFuture.completedFuture(Map.of());
    }
    return CompletableFuture.supplyAsync(
            () -> {
              Map<String, Long> lengths = new HashMap<>();
              Channel channel = null;
              try {
                for (String tenantId : tenantIds) {
                  try {
                    if (channel == null || !channel.isOpen()) {
                      channel = broker.controlConnection().createChannel();
                    }
                    lengths.put(tenantId, (long) channel.queueDeclarePassive(settings.queue(tenantId)).getMessageCount());
                  } catch (IOException | RuntimeException e) {
                    log.debug("could not read the queue length of tenant {}: {}", tenantId, e.toString());
                    lengths.put(tenantId, -1L);
                  }
                }
              } finally {
                if (channel != null) {
                  closeQuietly(channel);
                }
              }
              return lengths;
            },
            blocking)
        .exceptionally(e -> {
          Map<String, Long> unknown = new HashMap<>();
          tenantIds.forEach(id -> unknown.put(id, -1L));
          return unknown;
        });
  }

  /**
   * Creates (or resets the password of) the tenant's own broker user, allowed to publish to the
   * tenant's exchange only, and answers how to connect. Without a management URI it answers the
   * exchange alone, with a note that direct publishing needs per-tenant users.
   */
  public CompletionStage<BrokerCredentials> issueCredentials(String tenantId) {
    ConnectionFactory factory = broker.connectionFactory();
    String host = settings.publicHost().orElse(factory.getHost());
    int port = settings.publicPort().orElse(factory.getPort());
    String vhost = factory.getVirtualHost();
    String exchange = settings.exchange(tenantId);
    if (settings.managementUri().isEmpty()) {
      return CompletableFuture.completedFuture(
          new BrokerCredentials(
              host, port, vhost, exchange, null, null,
              "this broker has no per-tenant users (no AMQP_MANAGEMENT_URI, or the embedded broker): publish over HTTP"));
    }
    Management management = management();
    String base = management.base();
    BasicHttpCredentials credentials = management.credentials();
    String username = "mysimbdp-tenant-" + tenantId;
    String password = newPassword();
    String encodedVhost = URLEncoder.encode(vhost, StandardCharsets.UTF_8);
    Map<String, Object> user = Map.of("password", password, "tags", "");
    Map<String, Object> permissions =
        Map.of("configure", "^$", "write", "^" + regexQuote(exchange) + "$", "read", "^$");
    return put(base + "/api/users/" + URLEncoder.encode(username, StandardCharsets.UTF_8), user, credentials)
        .thenCompose(
            ok ->
                put(
                    base + "/api/permissions/" + encodedVhost + "/" + URLEncoder.encode(username, StandardCharsets.UTF_8),
                    permissions,
                    credentials))
        .thenApply(ok -> new BrokerCredentials(host, port, vhost, exchange, username, password, null))
        .whenComplete(
            (ok, failure) -> {
              if (failure != null) {
                log.warn("could not create the broker user of tenant {}: {}", tenantId, failure.toString());
              }
            });
  }

  /** The broker's management API: its base URL and the admin's credentials (from the URI's user info). */
  private record Management(String base, BasicHttpCredentials credentials) {}

  /** The management API; only with a management URI. */
  private Management management() {
    URI management = URI.create(settings.managementUri().orElseThrow());
    String[] admin = management.getUserInfo() == null ? new String[] {"guest", "guest"} : management.getUserInfo().split(":", 2);
    return new Management(
        management.getScheme() + "://" + management.getHost() + ":" + management.getPort(),
        BasicHttpCredentials.createBasicHttpCredentials(admin[0], admin.length > 1 ? admin[1] : ""));
  }

  private CompletionStage<Void> put(String url, Object body, BasicHttpCredentials credentials) {
    byte[] json;
    try {
      json = ProtocolJson.JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    HttpRequest request = HttpRequest.PUT(url).addCredentials(credentials).withEntity(ContentTypes.APPLICATION_JSON, json);
    return Http.get(system)
        .singleRequest(request)
        .thenCompose(
            (HttpResponse response) ->
                response
                    .entity()
                    .toStrict(MANAGEMENT_TIMEOUT.toMillis(), system)
                    .thenApply(
                        strict -> {
                          if (response.status().isFailure()) {
                            throw new CompletionException(
                                new IOException("broker management API answered " + response.status() + " to PUT " + url.replaceAll("//[^@/]*@", "//") + ": " + strict.getData().utf8String()));
                          }
                          return null;
                        }));
  }

  private String newPassword() {
    byte[] bytes = new byte[24];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String regexQuote(String name) {
    StringBuilder quoted = new StringBuilder();
    for (char c : name.toCharArray()) {
      if (!Character.isLetterOrDigit(c)) {
        quoted.append('\\');
      }
      quoted.append(c);
    }
    return quoted.toString();
  }

  /** Whether the broker at the other end is RabbitMQ (else: the embedded Qpid broker). */
  static boolean isRabbitMq(Connection connection) {
    Object product = connection.getServerProperties().get("product");
    return product != null && product.toString().toLowerCase(java.util.Locale.ROOT).contains("rabbitmq");
  }

  static void closeQuietly(Channel channel) {
    try {
      if (channel.isOpen()) {
        channel.close();
      }
    } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
      log.debug("closing a channel: {}", e.toString());
    }
  }
}
