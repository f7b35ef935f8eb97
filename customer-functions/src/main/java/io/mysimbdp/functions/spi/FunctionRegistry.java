package io.mysimbdp.functions.spi;

import io.mysimbdp.functions.builtin.AliceFunction;
import io.mysimbdp.functions.builtin.BobFunction;
import io.mysimbdp.functions.builtin.IdentityFunction;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The functions the platform knows by name. Built-in functions are registered at start-up; the
 * category mapping (which function a category uses) chooses among them. Configured or uploaded
 * functions are built by {@code io.mysimbdp.functions.FunctionFactory} and may be registered here.
 */
public final class FunctionRegistry {
  private final Map<String, IngestionFunction> byName = new ConcurrentHashMap<>();

  public static FunctionRegistry withBuiltins() {
    FunctionRegistry registry = new FunctionRegistry();
    registry.register(IdentityFunction.NAME, IdentityFunction.INSTANCE);
    registry.register(AliceFunction.NAME, AliceFunction.withDefaults());
    registry.register(BobFunction.NAME, BobFunction.withDefaults());
    return registry;
  }

  public void register(String name, IngestionFunction function) {
    byName.put(name, function);
  }

  public Optional<IngestionFunction> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** Removes a function (e.g. a tenant deleted it); returns whether it was there. */
  public boolean unregister(String name) {
    return byName.remove(name) != null;
  }

  /** The registered names. */
  public java.util.Set<String> names() {
    return java.util.Set.copyOf(byName.keySet());
  }
}
