package io.mysimbdp.node;

import com.typesafe.config.Config;
import io.mysimbdp.protocol.TenantConstraints;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The node's own settings ({@code mysimbdp.*}), read once from config. */
public record NodeSettings(
    Path dataDir,
    Optional<String> mongoUri,
    String platformDatabase,
    String tenantDatabasePrefix,
    Optional<String> amqpUri,
    int amqpMaxMessageBytes,
    Duration amqpConnectionTimeout,
    String httpHost,
    int httpPort,
    Duration askTimeout,
    long maxControlBodyBytes,
    String clusterJoin,
    Duration wakeInterval,
    Duration uploadExpiry,
    Duration uploadSweepInterval,
    TenantConstraints defaultConstraints) {

  public static NodeSettings from(Config root) {
    Config c = root.getConfig("mysimbdp");
    Config defaults = c.getConfig("tenants.default-constraints");
    return new NodeSettings(
        Path.of(c.getString("data-dir")),
        optional(c, "mongodb.uri"),
        c.getString("mongodb.platform-database"),
        c.getString("mongodb.tenant-database-prefix"),
        optional(c, "amqp.uri"),
        Math.toIntExact(c.getBytes("amqp.max-message-bytes")),
        c.getDuration("amqp.connection-timeout"),
        c.getString("http.host"),
        c.getInt("http.port"),
        c.getDuration("http.ask-timeout"),
        c.getBytes("http.max-control-body"),
        c.getString("cluster.join"),
        c.getDuration("ingestion.wake-interval"),
        c.getDuration("batch.upload-expiry"),
        c.getDuration("batch.upload-sweep-interval"),
        new TenantConstraints(
            defaults.getInt("max-files"),
            defaults.getLong("max-file-size-megabytes"),
            defaults.getStringList("formats")));
  }

  private static Optional<String> optional(Config c, String path) {
    return c.hasPath(path) && !c.getString(path).isBlank()
        ? Optional.of(c.getString(path))
        : Optional.empty();
  }

  public String tenantDatabase(String tenantId) {
    return tenantDatabasePrefix + tenantId;
  }
}
