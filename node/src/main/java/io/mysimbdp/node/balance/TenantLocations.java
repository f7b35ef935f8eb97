package io.mysimbdp.node.balance;

import akka.actor.Address;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The balancer's placement view: where each tenant is placed (its shard location), as last listed
 * from the external allocation or set here since, and every tenant it knows of. A listing read
 * before a placement was written must not undo it (three tenants created at once went to one
 * node): what was set here after the listing began wins over what it read. The tenants are listed
 * in full once, then only those created since the last listing, less an overlap. Not thread-safe:
 * the balancer's own.
 */
final class TenantLocations {
  /** How far back a listing of new tenants reaches before the last: creations on nodes whose clocks differ, inserts in flight. */
  static final Duration LISTING_OVERLAP = Duration.ofMinutes(1);

  /** A location set here, numbered in the order of the writes. */
  private record SetHere(String node, long write) {}

  private final Map<String, String> placedOn = new HashMap<>();
  private final Map<String, String> placedOnView = Collections.unmodifiableMap(placedOn);
  private final Map<String, SetHere> setHere = new HashMap<>();
  private long writes;
  private final Set<String> known = new HashSet<>();
  private final Set<String> knownView = Collections.unmodifiableSet(known);
  /** When the tenants were last listed; null: never (the next listing is a full one). */
  private Instant listedUpTo;

  /** Where each tenant is placed, by node address: a live view. */
  Map<String, String> placedOn() {
    return placedOnView;
  }

  /** Where the tenant is placed, or null. */
  String of(String tenant) {
    return placedOn.get(tenant);
  }

  /** The tenants placed on {@code node}. */
  Set<String> on(String node) {
    Set<String> tenants = new HashSet<>();
    placedOn.forEach((tenant, location) -> {
      if (location.equals(node)) {
        tenants.add(tenant);
      }
    });
    return tenants;
  }

  /** Places the tenant on the node here; its location is being set. */
  void place(String tenant, String node) {
    placedOn.put(tenant, node);
    setHere.put(tenant, new SetHere(node, ++writes));
  }

  /** What a listing begun now carries, so that placements set after it win over what it read. */
  long writesSoFar() {
    return writes;
  }

  /** Since when the next listing lists created tenants; null: all of them. */
  Instant listingSince() {
    return listedUpTo == null ? null : listedUpTo.minus(LISTING_OVERLAP);
  }

  /**
   * A listing begun at {@code listedAt} after {@code asOfWrite} placements: the tenants created
   * since {@link #listingSince()}, and every location, or null when they could not be read (those
   * known are kept).
   */
  void listed(List<String> createdIds, Map<String, Address> locations, long asOfWrite, Instant listedAt) {
    if (locations != null) {
      placedOn.clear();
      locations.forEach((tenant, address) -> placedOn.put(tenant, address.toString()));
      // What was set here after the read began wins over the read; what was set before is in it.
      setHere.values().removeIf(set -> set.write() <= asOfWrite);
      setHere.forEach((tenant, set) -> placedOn.put(tenant, set.node()));
    }
    known.addAll(createdIds);
    listedUpTo = listedAt;
  }

  /** Every tenant known: listed, or placed here when created. */
  Set<String> known() {
    return knownView;
  }

  void know(String tenant) {
    known.add(tenant);
  }
}
