package io.mysimbdp.functions;

import io.mysimbdp.functions.builtin.AliceFunction;
import io.mysimbdp.functions.builtin.BobFunction;
import io.mysimbdp.functions.builtin.CoerceFunction;
import io.mysimbdp.functions.builtin.Config;
import io.mysimbdp.functions.builtin.FilterFunction;
import io.mysimbdp.functions.builtin.IdentityFunction;
import io.mysimbdp.functions.builtin.NestFunction;
import io.mysimbdp.functions.builtin.PipelineFunction;
import io.mysimbdp.functions.builtin.RenameFunction;
import io.mysimbdp.functions.builtin.SplitFunction;
import io.mysimbdp.functions.quality.QualityRuleSet;
import io.mysimbdp.functions.sandbox.CelPredicate;
import io.mysimbdp.functions.sandbox.GuardedFunction;
import io.mysimbdp.functions.sandbox.JsonataFunction;
import io.mysimbdp.functions.sandbox.SandboxLimits;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Builds ingestion functions from their definitions: the one entry point the platform needs.
 *
 * <pre>{@code
 * FunctionFactory functions = FunctionFactory.standard();
 * IngestionFunction f = functions.create(FunctionSpec.fromMap(json));   // CompileException → 422
 * GuardedFunction g = functions.guard("tenant-a/category-x", f);        // disable after failures
 * List<Map<String, Object>> out = g.apply(record, context);             // FunctionException → DLQ
 * }</pre>
 *
 * Every function built here is thread-safe and can be shared by all streams of a category.
 */
public final class FunctionFactory {

  /** Builds one built-in from its config. */
  @FunctionalInterface
  interface Builtin {
    IngestionFunction create(Config config, FunctionFactory factory) throws CompileException;
  }

  private static final Map<String, Builtin> BUILTINS = builtins();

  private static Map<String, Builtin> builtins() {
    Map<String, Builtin> b = new LinkedHashMap<>();
    b.put(
        IdentityFunction.NAME,
        (c, f) -> {
          c.allowOnly();
          return IdentityFunction.INSTANCE;
        });
    b.put(RenameFunction.NAME, (c, f) -> RenameFunction.fromConfig(c));
    b.put(NestFunction.NAME, (c, f) -> NestFunction.fromConfig(c));
    b.put(CoerceFunction.NAME, (c, f) -> CoerceFunction.fromConfig(c));
    b.put(FilterFunction.NAME, (c, f) -> FilterFunction.fromConfig(c, f.limits));
    b.put(SplitFunction.NAME, (c, f) -> SplitFunction.fromConfig(c));
    b.put(PipelineFunction.NAME, FunctionFactory::pipeline);
    b.put(AliceFunction.NAME, (c, f) -> AliceFunction.fromConfig(c));
    b.put(BobFunction.NAME, (c, f) -> BobFunction.fromConfig(c));
    return Collections.unmodifiableMap(b);
  }

  private final SandboxLimits limits;
  private final GuardedFunction.Policy policy;

  public FunctionFactory(SandboxLimits limits) {
    this(limits, GuardedFunction.Policy.DEFAULT);
  }

  /** With the policy {@link #guard(String, IngestionFunction)} applies. */
  public FunctionFactory(SandboxLimits limits, GuardedFunction.Policy policy) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.policy = Objects.requireNonNull(policy, "policy");
  }

  /** With {@link SandboxLimits#DEFAULT}. */
  public static FunctionFactory standard() {
    return new FunctionFactory(SandboxLimits.DEFAULT);
  }

  public SandboxLimits limits() {
    return limits;
  }

  /** identity, rename, nest, coerce, filter, split, pipeline, alice, bob. */
  public static Set<String> builtinNames() {
    return BUILTINS.keySet();
  }

  /** Any function definition. */
  public IngestionFunction create(FunctionSpec spec) throws CompileException {
    switch (spec.kind()) {
      case BUILTIN:
        return builtin(spec.name(), spec.config());
      case JSONATA:
        return JsonataFunction.compile(spec.source(), spec.config(), limits);
      default:
        return new FilterFunction(predicate(spec.source()), FilterFunction.OnError.FAIL);
    }
  }

  /** A built-in by name; the config is checked now (unknown keys and bad values fail). */
  public IngestionFunction builtin(String name, Map<String, ?> config) throws CompileException {
    Builtin builtin = BUILTINS.get(name);
    if (builtin == null) {
      throw CompileException.of(
          "builtin", "unknown built-in function '" + name + "' (known: " + BUILTINS.keySet() + ")");
    }
    return builtin.create(Config.of(name, config), this);
  }

  /**
   * An uploaded source: "jsonata" → a sandboxed transform, "cel" → a filter keeping the records for
   * which the predicate is true.
   *
   * @throws CompileException with the position of the first error
   */
  public IngestionFunction compile(String language, String source) throws CompileException {
    return compile(language, source, Map.of());
  }

  public IngestionFunction compile(String language, String source, Map<String, ?> config)
      throws CompileException {
    switch (language == null ? "" : language.toLowerCase(Locale.ROOT)) {
      case JsonataFunction.LANGUAGE:
        return JsonataFunction.compile(source, config, limits);
      case CelPredicate.LANGUAGE:
        return new FilterFunction(predicate(source), FilterFunction.OnError.FAIL);
      default:
        throw CompileException.of(
            String.valueOf(language), "unknown language (supported: jsonata, cel)");
    }
  }

  /** A CEL predicate over {@code record} and {@code context}. */
  public CelPredicate predicate(String source) throws CompileException {
    return CelPredicate.compile(source, limits);
  }

  /** Quality rules from their JSON definitions (see QualityRule.fromMap). */
  public QualityRuleSet qualityRules(List<? extends Map<String, ?>> definitions)
      throws CompileException {
    return QualityRuleSet.fromMaps(definitions, limits);
  }

  /**
   * Wraps a function with this factory's failure policy (default: disabled after 10 failures or 3
   * bound violations in a row).
   */
  public GuardedFunction guard(String name, IngestionFunction function) {
    return new GuardedFunction(name, function, policy);
  }

  public GuardedFunction guard(
      String name, IngestionFunction function, GuardedFunction.Policy policy) {
    return new GuardedFunction(name, function, policy);
  }

  private static IngestionFunction pipeline(Config config, FunctionFactory factory)
      throws CompileException {
    config.allowOnly("steps");
    List<?> steps = config.list("steps");
    if (steps == null || steps.isEmpty()) {
      throw config.error("steps", "must be a non-empty array");
    }
    List<IngestionFunction> functions = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < steps.size(); i++) {
      Object step = steps.get(i);
      if (!(step instanceof Map)) {
        throw config.error("steps[" + i + "]", "must be an object");
      }
      @SuppressWarnings("unchecked")
      Map<String, ?> json = (Map<String, ?>) step;
      FunctionSpec spec;
      try {
        spec = FunctionSpec.fromMap(json);
        functions.add(factory.create(spec));
      } catch (CompileException e) {
        throw new CompileException(
            e.language(),
            "pipeline steps[" + i + "]: " + e.detail(),
            e.offset(),
            e.line(),
            e.column());
      }
      names.add(spec.kind() == FunctionSpec.Kind.BUILTIN ? spec.name() : spec.kind().name().toLowerCase(Locale.ROOT));
    }
    return new PipelineFunction(functions, names);
  }
}
