package io.mysimbdp.node.ingest;

import io.mysimbdp.functions.builtin.IdentityFunction;
import io.mysimbdp.functions.spi.FunctionRegistry;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Which function and which target collection a tenant's category uses. Batch files and stream
 * messages both ask here. Until tenants can map categories (the functions issue), the mapping is
 * node configuration ({@code mysimbdp.ingestion.category-functions}: category → function name),
 * and a category it does not name uses the identity function ({@code unmapped-categories =
 * identity}, the default) or has no function at all ({@code reject}). Output goes to the tenant's
 * {@value #DEFAULT_COLLECTION} collection.
 */
public final class CategoryFunctions {
  public static final String DEFAULT_COLLECTION = "records";

  /** The function for a category and where its output goes. */
  public record Route(String functionName, IngestionFunction function, String collection) {}

  /** The category has no function; the record goes to the dead-letter store with this reason. */
  public static final class NoFunction extends RuntimeException {
    public NoFunction(String message) {
      super(message, null, false, false);
    }
  }

  private final FunctionRegistry registry;
  private final Map<String, String> byCategory;
  private final boolean unmappedToIdentity;

  public CategoryFunctions(FunctionRegistry registry) {
    this(registry, Map.of(), true);
  }

  public CategoryFunctions(FunctionRegistry registry, Map<String, String> byCategory, boolean unmappedToIdentity) {
    this.registry = registry;
    this.byCategory = Map.copyOf(byCategory);
    this.unmappedToIdentity = unmappedToIdentity;
  }

  /** The functions known by name (built-ins; tests register their own). */
  public FunctionRegistry registry() {
    return registry;
  }

  /** The category's route; fails with {@link NoFunction} when the category has none. */
  public CompletionStage<Route> resolve(String tenantId, String category) {
    String name = byCategory.get(category);
    if (name == null && unmappedToIdentity) {
      name = IdentityFunction.NAME;
    }
    if (name == null) {
      return CompletableFuture.failedFuture(new NoFunction("no function is mapped to category '" + category + "'"));
    }
    String functionName = name;
    Optional<IngestionFunction> function =
        registry.find(name).or(() -> functionName.equals(IdentityFunction.NAME) ? Optional.of(IdentityFunction.INSTANCE) : Optional.empty());
    if (function.isEmpty()) {
      return CompletableFuture.failedFuture(new NoFunction("category '" + category + "' maps to function '" + name + "', which is not registered"));
    }
    return CompletableFuture.completedFuture(new Route(name, function.get(), DEFAULT_COLLECTION));
  }
}
