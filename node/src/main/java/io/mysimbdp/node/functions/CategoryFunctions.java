package io.mysimbdp.node.functions;

import io.mysimbdp.node.functions.CsvTypes;
import io.mysimbdp.functions.FunctionFactory;
import io.mysimbdp.functions.FunctionSpec;
import io.mysimbdp.functions.builtin.IdentityFunction;
import io.mysimbdp.functions.quality.QualityRuleSet;
import io.mysimbdp.functions.sealed.SealedFields;
import io.mysimbdp.functions.sandbox.GuardedFunction;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.FunctionRegistry;
import io.mysimbdp.functions.spi.IngestionFunction;
import io.mysimbdp.node.functions.FunctionStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which function and which target collection a tenant's category uses, and the tenant's quality
 * rules. Batch files and stream messages both ask here ({@link #resolve}).
 *
 * <p>Mapping: the category's own entry in the tenant's {@code categories}, else the tenant's
 * fallback entry {@value #FALLBACK_CATEGORY}, else the node's configured default for the category
 * ({@code mysimbdp.ingestion.category-functions}: category → a registered function), else the
 * identity function into {@value #DEFAULT_COLLECTION} ({@code unmapped-categories = identity}, the
 * default) or no function at all ({@code reject}: such records are dead letters). A category mapped to a function that was deleted resolves to a function
 * failing every record with "function 'x' was deleted" (dead letters, stage FUNCTION).
 *
 * <p>Caching: per node, bounded; mappings, functions and rules are re-read when older than the TTL
 * (a change made on another node applies within it; on this node at once). A function is compiled
 * again only when its active version changed; its {@link GuardedFunction} (failure counts, DISABLED
 * state) is kept across re-reads. A guard that disables its function records it in the store, so
 * every node stops running it.
 */
public final class CategoryFunctions {
  private static final Logger log = LoggerFactory.getLogger(CategoryFunctions.class);
  public static final String DEFAULT_COLLECTION = "records";
  /** The category entry used by categories without one of their own. */
  public static final String FALLBACK_CATEGORY = "*";

  /**
   * The function for a category and where its output goes; {@code quality} is the tenant's rules
   * (evaluate every output record), {@code functionVersion} 0 for the implicit identity.
   */
  public record Route(String functionName, IngestionFunction function, String collection, QualityCheck quality,
      long functionVersion, CsvTypes csvTypes) {
    public Route {
      // Where records enter the tenant's functions (files and streams): sealed wire forms become opaque values.
      function = SealedFields.admitting(function);
    }

    public Route(String functionName, IngestionFunction function, String collection) {
      this(functionName, function, collection, QualityCheck.NONE, 0);
    }

    public Route(String functionName, IngestionFunction function, String collection, QualityCheck quality, long functionVersion) {
      this(functionName, function, collection, quality, functionVersion, CsvTypes.STRINGS);
    }
  }

  /** Settings ({@code mysimbdp.functions}). */
  public record Settings(Duration cacheTtl, int cacheEntries) {
    public static final Settings DEFAULT = new Settings(Duration.ofSeconds(2), 10_000);
  }

  /** A category's entry. */
  record Mapping(String function, String collection, CsvTypes csvTypes) {}

  /** A function as this node has it: compiled, guarded, and what it was built from. */
  static final class Loaded {
    final String name;
    final long version;
    final long resets;
    final GuardedFunction guard;
    final IngestionFunction function;

    Loaded(String name, long version, long resets, GuardedFunction guard, IngestionFunction function) {
      this.name = name;
      this.version = version;
      this.resets = resets;
      this.guard = guard;
      this.function = function;
    }
  }

  /** The category has no function; the record goes to the dead-letter store with this reason. */
  public static final class NoFunction extends RuntimeException {
    public NoFunction(String message) {
      super(message, null, false, false);
    }
  }

  private final FunctionRegistry registry;
  private final Map<String, String> nodeDefaults;
  private final boolean unmappedToIdentity;
  private final FunctionStore store;
  private final FunctionFactory factory;
  private final TtlCache<Map<String, Mapping>> mappings;
  private final TtlCache<Loaded> functions;
  private final TtlCache<QualityCheck> quality;

  /** Without a store: every category uses the identity function (kept for tests of pipelines). */
  public CategoryFunctions(FunctionRegistry registry) {
    this(registry, null, FunctionFactory.standard(), Settings.DEFAULT, Map.of(), true);
  }

  public CategoryFunctions(
      FunctionRegistry registry, FunctionStore store, FunctionFactory factory, Settings settings,
      Map<String, String> nodeDefaults, boolean unmappedToIdentity) {
    this.registry = registry;
    this.nodeDefaults = Map.copyOf(nodeDefaults);
    this.unmappedToIdentity = unmappedToIdentity;
    this.store = store;
    this.factory = factory;
    this.mappings = new TtlCache<>(settings.cacheEntries(), settings.cacheTtl(), m -> {});
    this.functions = new TtlCache<>(settings.cacheEntries(), settings.cacheTtl(), f -> {});
    this.quality = new TtlCache<>(settings.cacheEntries(), settings.cacheTtl(), q -> q.flush());
  }

  public FunctionFactory factory() {
    return factory;
  }

  /** The functions known by name on this node (built-ins; tests register their own). */
  public FunctionRegistry registry() {
    return registry;
  }

  /** The category's route; fails with {@link NoFunction} when the category has none. */
  public CompletionStage<Route> resolve(String tenantId, String category) {
    if (store == null) {
      try {
        return CompletableFuture.completedFuture(nodeDefault(category, QualityCheck.NONE));
      } catch (NoFunction e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return quality(tenantId).thenCompose(check -> mappings(tenantId).thenCompose(all -> {
      Mapping mapping = all.get(category);
      if (mapping == null) {
        mapping = all.get(FALLBACK_CATEGORY);
      }
      if (mapping == null) {
        return CompletableFuture.completedFuture(nodeDefault(category, check));
      }
      Mapping m = mapping;
      return function(tenantId, m.function()).thenApply(loaded -> loaded == null
          ? new Route(m.function(), deleted(m.function(), category), m.collection(), check, 0, m.csvTypes())
          : new Route(m.function(), loaded.function, m.collection(), check, loaded.version, m.csvTypes()));
    }));
  }

  /** A category the tenant did not map: the node's configured function, identity, or none. */
  private Route nodeDefault(String category, QualityCheck check) {
    String name = nodeDefaults.get(category);
    if (name == null && unmappedToIdentity) {
      name = IdentityFunction.NAME;
    }
    if (name == null) {
      throw new NoFunction("no function is mapped to category '" + category + "'");
    }
    String functionName = name;
    IngestionFunction function = registry.find(name)
        .or(() -> functionName.equals(IdentityFunction.NAME) ? Optional.of(IdentityFunction.INSTANCE) : Optional.empty())
        .orElseThrow(() -> new NoFunction("category '" + category + "' maps to function '" + functionName + "', which is not registered"));
    return new Route(name, function, DEFAULT_COLLECTION, check, 0);
  }

  /** The tenant's quality rules (for a pipeline that does not go through a category). */
  public CompletionStage<QualityCheck> quality(String tenantId) {
    if (store == null) {
      return CompletableFuture.completedFuture(QualityCheck.NONE);
    }
    return quality.get(tenantId, previous -> store.qualityRules(tenantId).thenApply(docs -> {
      StringBuilder fingerprint = new StringBuilder();
      List<Map<String, ?>> definitions = new ArrayList<>();
      List<String> statsIds = new ArrayList<>();
      for (Document d : docs) {
        String statsId = d.getString("_id") + "@" + d.getString("generation");
        fingerprint.append(statsId).append(';');
        statsIds.add(statsId);
        definitions.add(FunctionStore.parse(d.getString("definition")));
      }
      if (previous != null && previous.fingerprint().contentEquals(fingerprint)) {
        return previous;
      }
      if (previous != null) {
        previous.flush();
      }
      if (definitions.isEmpty()) {
        return QualityCheck.NONE;
      }
      try {
        QualityRuleSet rules = factory.qualityRules(definitions);
        return new QualityCheck(tenantId, store, rules, statsIds, fingerprint.toString());
      } catch (CompileException e) {
        // Checked when defined; only a library change could get here.
        log.error("quality rules of tenant {} no longer compile, not evaluated: {}", tenantId, e.getMessage());
        return QualityCheck.NONE;
      }
    }));
  }

  private CompletionStage<Map<String, Mapping>> mappings(String tenantId) {
    return mappings.get(tenantId, previous -> store.categories(tenantId).thenApply(docs -> {
      Map<String, Mapping> all = new HashMap<>();
      for (Document d : docs) {
        all.put(d.getString("_id"), new Mapping(d.getString("function"), d.getString("collection"), storedTypes(tenantId, d)));
      }
      return all;
    }));
  }

  /** The category's typed CSV values; checked when put, so only a changed store could fail here (then text, as by default). */
  private static CsvTypes storedTypes(String tenantId, Document mapping) {
    try {
      return CsvTypes.fromSpec(mapping.get("types"));
    } catch (IllegalArgumentException e) {
      log.error("tenant {}: the types of category '{}' are not valid, CSV values stay text: {}", tenantId, mapping.get("_id"), e.getMessage());
      return CsvTypes.STRINGS;
    }
  }

  /** The function as this node runs it; null if there is no such function. */
  CompletionStage<Loaded> function(String tenantId, String name) {
    return functions.get(key(tenantId, name), previous -> store.function(tenantId, name).thenCompose(found -> {
      if (found.isEmpty() || found.get().get("active") == null) {
        return CompletableFuture.completedFuture(null);
      }
      Document doc = found.get();
      long version = ((Number) doc.get("active")).longValue();
      long resets = doc.get("resets") instanceof Number n ? n.longValue() : 0;
      Document disabled = doc.get("disabled", Document.class);
      String disabledReason = disabled != null && ((Number) disabled.get("version")).longValue() == version
          ? disabled.getString("reason") : null;
      if (previous != null && previous.version == version) {
        if (previous.resets != resets && disabledReason == null) {
          previous.guard.reset();
        }
        if (disabledReason != null) {
          previous.guard.disable(disabledReason);
        }
        return CompletableFuture.completedFuture(
            new Loaded(name, version, resets, previous.guard, tracked(tenantId, name, version, previous.guard)));
      }
      return store.version(tenantId, name, version).thenApply(versionDoc -> {
        IngestionFunction compiled;
        try {
          FunctionSpec spec = FunctionSpec.fromMap(FunctionStore.parse(versionDoc.orElseThrow().getString("spec")));
          compiled = factory.create(spec);
        } catch (CompileException | RuntimeException e) {
          String reason = "function '" + name + "' version " + version + " cannot be loaded: " + e.getMessage();
          compiled = (record, context) -> {
            throw new FunctionException(reason);
          };
        }
        GuardedFunction guard = factory.guard(tenantId + "/" + name + "@v" + version, compiled);
        if (disabledReason != null) {
          guard.disable(disabledReason);
        }
        return new Loaded(name, version, resets, guard, tracked(tenantId, name, version, guard));
      });
    }));
  }

  /** Loads (or re-reads, when stale) a function now. */
  public CompletionStage<Void> resolveFunction(String tenantId, String name) {
    return store == null ? CompletableFuture.completedFuture(null) : function(tenantId, name).thenApply(loaded -> null);
  }

  /** The runtime status of a function's active version on this node, if it has run here. */
  public Optional<GuardedFunction.Status> localStatus(String tenantId, String name, long version) {
    return functions.peek(key(tenantId, name)).filter(l -> l.version == version).map(l -> l.guard.status());
  }

  /** Re-read this tenant's mappings, functions and rules at the next resolve (after a change here). */
  public void changed(String tenantId) {
    mappings.expire(tenantId);
    functions.expire(tenantId + "/");
    quality.expire(tenantId);
  }

  /** Adds every tenant's quality counts to the store. */
  public CompletionStage<Void> flushQuality() {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (QualityCheck check : quality.values()) {
      all.add(check.flush().toCompletableFuture());
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  private static String key(String tenantId, String name) {
    return tenantId + "/" + name;
  }

  /** The guard, recording in the store when it disables the function. */
  private IngestionFunction tracked(String tenantId, String name, long version, GuardedFunction guard) {
    AtomicBoolean recorded = new AtomicBoolean(guard.status().state() == GuardedFunction.State.DISABLED);
    return (record, context) -> {
      try {
        return guard.apply(record, context);
      } catch (FunctionException e) {
        GuardedFunction.Status status = guard.status();
        if (status.state() == GuardedFunction.State.DISABLED && recorded.compareAndSet(false, true)) {
          log.warn("tenant {}: function {} version {} disabled: {}", tenantId, name, version, status.reason());
          store.disabled(tenantId, name, version, status.reason()).whenComplete((ok, failure) -> {
            if (failure != null) {
              recorded.set(false);
              log.warn("could not record that function {}/{} is disabled: {}", tenantId, name, failure.toString());
            }
          });
        }
        throw e;
      }
    };
  }

  private static IngestionFunction deleted(String function, String category) {
    String reason = "function '" + function + "' was deleted; category '" + category
        + "' still maps to it (map the category to another function, or delete the mapping)";
    return new IngestionFunction() {
      @Override
      public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context) throws FunctionException {
        throw new FunctionException(reason);
      }
    };
  }
}
