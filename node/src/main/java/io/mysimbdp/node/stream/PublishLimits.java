package io.mysimbdp.node.stream;

import com.typesafe.config.Config;

/**
 * The byte bounds of publishing and of the tenant's queue, and the publisher's own threads
 * ({@code mysimbdp.stream.max-queue-bytes}, {@code mysimbdp.stream.publish.*}).
 *
 * @param maxQueueBytes most bytes of message bodies a tenant's queue holds
 * @param maxInFlightBytes bytes published and not yet confirmed on this node (beyond: 503)
 * @param maxInFlightBytesPerTenant the same for one tenant (beyond: 429)
 * @param threads the publisher's own threads (the AMQP client blocks)
 * @param maxWaiting publishes waiting for those threads (beyond: 503)
 * @param maxWaitingBytes bytes of those publishes (beyond: 503)
 */
public record PublishLimits(
    long maxQueueBytes,
    long maxInFlightBytes,
    long maxInFlightBytesPerTenant,
    int threads,
    int maxWaiting,
    long maxWaitingBytes) {

  public PublishLimits {
    if (maxQueueBytes < 1 || maxInFlightBytes < 1 || maxInFlightBytesPerTenant < 1 || threads < 1 || maxWaiting < 1 || maxWaitingBytes < 1) {
      throw new IllegalArgumentException("mysimbdp.stream publishing limits must be positive");
    }
  }

  public static PublishLimits from(Config root) {
    Config s = root.getConfig("mysimbdp.stream");
    Config publish = s.getConfig("publish");
    PublishLimits limits =
        new PublishLimits(
            s.getBytes("max-queue-bytes"),
            publish.getBytes("max-in-flight-bytes"),
            publish.getBytes("max-in-flight-bytes-per-tenant"),
            publish.getInt("threads"),
            publish.getInt("max-waiting"),
            publish.getBytes("max-waiting-bytes"));
    long maxBody = publish.getBytes("max-body");
    if (limits.maxInFlightBytesPerTenant < maxBody || limits.maxWaitingBytes < maxBody) {
      // else a request of max-body would always be refused
      throw new IllegalArgumentException(
          "mysimbdp.stream.publish.max-in-flight-bytes-per-tenant and max-waiting-bytes must be at least max-body (" + maxBody + " bytes)");
    }
    return limits;
  }
}
