package io.mysimbdp.functions.spi;

import io.mysimbdp.functions.builtin.IdentityFunction;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The functions the platform knows by name. Built-in functions are registered at start-up; the
 * category mapping (which function a category uses) chooses among them.
 */
public final class FunctionRegistry {
  private final Map<String, IngestionFunction> byName = new ConcurrentHashMap<>();

  public static FunctionRegistry withBuiltins() {
    FunctionRegistry registry = new FunctionRegistry();
    registry.register(IdentityFunction.NAME, IdentityFunction.INSTANCE);
    return registry;
  }

  public void register(String name, IngestionFunction function) {
    byName.put(name, function);
  }

  public Optional<IngestionFunction> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }
}
