package io.mysimbdp.node.report;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The meters of the tenants whose entities run on this node: a tenant's entity opens its meter
 * when it starts here and closes it when it stops (moves away), so this node's {@code /metrics}
 * shows the tenants it hosts.
 */
public final class TenantMeters implements Extension {
  public static final ExtensionId<TenantMeters> ID =
      new ExtensionId<>() {
        @Override
        public TenantMeters createExtension(ActorSystem<?> system) {
          return new TenantMeters();
        }
      };

  public static TenantMeters get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  private final ConcurrentMap<String, TenantMeter> meters = new ConcurrentHashMap<>();

  private TenantMeters() {}

  /** The tenant's meter on this node, opened if it is not. */
  public TenantMeter forTenant(String tenantId) {
    return meters.computeIfAbsent(tenantId, TenantMeter::new);
  }

  /** The tenant left this node: a new entity here starts from zero. */
  public void close(String tenantId) {
    meters.remove(tenantId);
  }

  public Collection<TenantMeter> all() {
    return meters.values();
  }
}
