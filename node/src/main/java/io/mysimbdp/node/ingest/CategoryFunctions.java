package io.mysimbdp.node.ingest;

import io.mysimbdp.functions.builtin.IdentityFunction;
import io.mysimbdp.functions.spi.FunctionRegistry;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Which function and which target collection a tenant's category uses. Batch files and stream
 * messages both ask here. Until tenants can map categories (the functions issue), every category
 * uses the identity function and the tenant's {@value #DEFAULT_COLLECTION} collection.
 */
public final class CategoryFunctions {
  public static final String DEFAULT_COLLECTION = "records";

  /** The function for a category and where its output goes. */
  public record Route(String functionName, IngestionFunction function, String collection) {}

  private final FunctionRegistry registry;

  public CategoryFunctions(FunctionRegistry registry) {
    this.registry = registry;
  }

  public CompletionStage<Route> resolve(String tenantId, String category) {
    IngestionFunction identity = registry.find(IdentityFunction.NAME).orElse(IdentityFunction.INSTANCE);
    return CompletableFuture.completedFuture(new Route(IdentityFunction.NAME, identity, DEFAULT_COLLECTION));
  }
}
