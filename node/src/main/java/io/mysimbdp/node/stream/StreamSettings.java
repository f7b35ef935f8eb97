package io.mysimbdp.node.stream;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Optional;

/** The stream settings ({@code mysimbdp.stream.*} and the stream part of {@code mysimbdp.amqp}). */
public record StreamSettings(
    String namePrefix,
    int maxQueueLength,
    Optional<String> managementUri,
    Optional<String> publicHost,
    Optional<Integer> publicPort,
    int publishChannels,
    int maxInFlight,
    int maxInFlightPerTenant,
    int publishBatchSize,
    int maxMessagesPerRequest,
    Duration confirmTimeout,
    long maxPublishBody,
    int retryAfterSeconds,
    int prefetch,
    int minPrefetch,
    int prefetchRecords,
    long prefetchBytes,
    Duration prefetchCheckInterval,
    Duration prefetchMinInterval,
    int consumeBatchSize,
    long consumeBatchBytes,
    int writeParallelism,
    int functionAttempts,
    int writeAttempts,
    Duration ackTimeout,
    Duration drainTimeout,
    Duration restartMinBackoff,
    Duration restartMaxBackoff,
    double restartRandomFactor,
    long maxMessageBytes) {

  public static StreamSettings from(Config root) {
    Config s = root.getConfig("mysimbdp.stream");
    Config amqp = root.getConfig("mysimbdp.amqp");
    Config publish = s.getConfig("publish");
    Config consume = s.getConfig("consume");
    StreamSettings settings = new StreamSettings(
        s.getString("name-prefix"),
        s.getInt("max-queue-length"),
        optional(amqp, "management-uri"),
        optional(amqp, "public-host"),
        optional(amqp, "public-port").map(Integer::parseInt),
        publish.getInt("channels"),
        publish.getInt("max-in-flight"),
        publish.getInt("max-in-flight-per-tenant"),
        publish.getInt("batch-size"),
        publish.getInt("max-messages-per-request"),
        publish.getDuration("confirm-timeout"),
        publish.getBytes("max-body"),
        publish.getInt("retry-after"),
        consume.getInt("prefetch"),
        consume.getInt("min-prefetch"),
        consume.getInt("prefetch-records"),
        consume.getBytes("prefetch-bytes"),
        consume.getDuration("prefetch-check-interval"),
        consume.getDuration("prefetch-min-interval"),
        consume.getInt("batch-size"),
        consume.getBytes("batch-bytes"),
        consume.getInt("write-parallelism"),
        consume.getInt("function-attempts"),
        consume.getInt("write-attempts"),
        consume.getDuration("ack-timeout"),
        consume.getDuration("drain-timeout"),
        consume.getDuration("restart-min-backoff"),
        consume.getDuration("restart-max-backoff"),
        consume.getDouble("restart-random-factor"),
        amqp.getBytes("max-message-bytes"));
    PrefetchPolicy.from(settings); // prefetch bounds out of range fail at start-up, not on the first stream
    return settings;
  }

  private static Optional<String> optional(Config c, String path) {
    return c.hasPath(path) && !c.getString(path).isBlank() ? Optional.of(c.getString(path)) : Optional.empty();
  }

  /** The tenant's exchange: publishers send here. */
  public String exchange(String tenantId) {
    return namePrefix + tenantId;
  }

  /** The tenant whose exchange this is, if it is one. */
  public Optional<String> tenantOfExchange(String exchange) {
    if (exchange == null || !exchange.startsWith(namePrefix) || exchange.endsWith(".dead") || exchange.length() == namePrefix.length()) {
      return Optional.empty();
    }
    return Optional.of(exchange.substring(namePrefix.length()));
  }

  /** The tenant's queue, fed by its exchange, consumed by the tenant's entity. */
  public String queue(String tenantId) {
    return namePrefix + tenantId;
  }

  /** Where the broker sends what it dead-letters (a rejected or expired message). */
  public String deadLetterExchange(String tenantId) {
    return namePrefix + tenantId + ".dead";
  }

  public String deadLetterQueue(String tenantId) {
    return namePrefix + tenantId + ".dead";
  }
}
