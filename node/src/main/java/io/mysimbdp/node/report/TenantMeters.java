package io.mysimbdp.node.report;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The meters of the tenants whose entities run on this node, for {@code /metrics}: each tenant's
 * entity creates its meter and hands it to its workers; the node's reporter (which the entity
 * registers it with when it starts here and unregisters when it stops) keeps this registry, so
 * this node shows the tenants it hosts. Nothing else writes to it.
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

  /** The tenant's entity started here with this meter. */
  public void register(TenantMeter meter) {
    meters.put(meter.tenantId(), meter);
  }

  /** The tenant left this node: its meter goes (a new entity here starts from zero). */
  public void unregister(TenantMeter meter) {
    meters.remove(meter.tenantId(), meter);
  }

  public Collection<TenantMeter> all() {
    return meters.values();
  }
}
