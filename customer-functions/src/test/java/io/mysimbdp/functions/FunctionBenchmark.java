package io.mysimbdp.functions;

import io.mysimbdp.functions.builtin.AliceFunction;
import io.mysimbdp.functions.builtin.BobFunction;
import io.mysimbdp.functions.builtin.IdentityFunction;
import io.mysimbdp.functions.quality.QualityRuleSet;
import io.mysimbdp.functions.sandbox.JsonataFunction;
import io.mysimbdp.functions.sandbox.SandboxLimits;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-record cost of functions on one thread, over the 9,999 water-quality rows repeated (each
 * pass with fresh "@id"s, copied before the pass is timed). Run:
 *
 * <pre>
 * scripts/bench-functions.sh [--passes 10 --warmup 5]
 * </pre>
 */
public final class FunctionBenchmark {
  private FunctionBenchmark() {}

  private interface Work {
    int run(Map<String, Object> record, FunctionContext context) throws FunctionException;
  }

  public static void main(String[] args) throws Exception {
    int passes = intArg(args, "--passes", 10);
    int warmup = intArg(args, "--warmup", 5);
    List<Map<String, Object>> rows = WaterQualityData.rows();
    FunctionFactory factory = FunctionFactory.standard();
    SandboxLimits limits = factory.limits();

    Map<String, Work> work = new LinkedHashMap<>();
    work.put("identity", fn(IdentityFunction.INSTANCE));
    work.put("alice, built-in Java", fn(AliceFunction.withDefaults()));
    work.put(
        "alice, sandboxed JSONata",
        fn(JsonataFunction.compile(WaterQualityData.resource("examples/alice.jsonata"), limits)));
    work.put(
        "alice, JSONata + guard",
        fn(
            factory.guard(
                "bench/alice",
                JsonataFunction.compile(WaterQualityData.resource("examples/alice.jsonata"), limits))));
    work.put("bob, built-in Java", fn(BobFunction.withDefaults()));
    work.put(
        "bob, sandboxed JSONata",
        fn(JsonataFunction.compile(WaterQualityData.resource("examples/bob.jsonata"), limits)));
    work.put(
        "CEL filter (compliance)",
        fn(factory.compile("cel", "record['sample.isComplianceSample'] == 'true'")));
    QualityRuleSet rules =
        factory.qualityRules(
            List.of(
                Map.of("name", "result-numeric", "kind", "pattern", "field", "result", "regex", "^[0-9]+(\\.[0-9]+)?$"),
                Map.of("name", "result-range", "kind", "range", "field", "result", "min", 0, "max", 100),
                Map.of("name", "qualifier", "kind", "required", "field", "resultQualifier.notation"),
                Map.of("name", "unit", "kind", "allowed", "field", "determinand.unit.label",
                    "values", List.of("mg/l", "ug/l", "cel", "phunits", "%"))));
    work.put("4 quality rules (CEL)", (r, c) -> rules.evaluate(r, c).failures().size());

    System.out.printf(
        "JVM %s, %d CPUs, load average %.1f; %d rows x %d passes after %d warm-up passes%n",
        System.getProperty("java.vm.version"),
        Runtime.getRuntime().availableProcessors(),
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
        rows.size(),
        passes,
        warmup);
    System.out.printf(
        "%-28s %12s %12s %12s %10s %8s%n",
        "function", "ns/record", "best pass", "records/s", "out/in", "failed");
    for (Map.Entry<String, Work> e : work.entrySet()) {
      measure(e.getKey(), e.getValue(), rows, passes, warmup);
    }
  }

  private static Work fn(IngestionFunction f) {
    return (r, c) -> f.apply(r, c).size();
  }

  private static void measure(
      String name, Work work, List<Map<String, Object>> rows, int passes, int warmup) {
    long[] nanos = new long[passes];
    long produced = 0;
    long failed = 0;
    for (int p = -warmup; p < passes; p++) {
      List<Map<String, Object>> input = freshIds(rows, p + warmup);
      FunctionContext[] contexts = new FunctionContext[input.size()];
      for (int i = 0; i < contexts.length; i++) {
        contexts[i] = new FunctionContext("bench", "water-quality", "pass-" + p, i);
      }
      long out = 0;
      long errors = 0;
      long start = System.nanoTime();
      for (int i = 0; i < input.size(); i++) {
        try {
          out += work.run(input.get(i), contexts[i]);
        } catch (FunctionException ex) {
          errors++;
        }
      }
      long elapsed = System.nanoTime() - start;
      if (p >= 0) {
        nanos[p] = elapsed;
        produced += out;
        failed += errors;
      }
    }
    long total = Arrays.stream(nanos).sum();
    long best = Arrays.stream(nanos).min().orElse(0);
    long records = (long) rows.size() * passes;
    double perRecord = (double) total / records;
    System.out.printf(
        "%-28s %12.0f %12.0f %12.0f %10.3f %8d%n",
        name,
        perRecord,
        (double) best / rows.size(),
        1e9 / perRecord,
        (double) produced / records,
        failed);
  }

  private static List<Map<String, Object>> freshIds(List<Map<String, Object>> rows, int pass) {
    List<Map<String, Object>> out = new ArrayList<>(rows.size());
    for (Map<String, Object> r : rows) {
      Map<String, Object> copy = new LinkedHashMap<>(r);
      copy.put("@id", r.get("@id") + "#" + pass);
      out.add(copy);
    }
    return out;
  }

  private static int intArg(String[] args, String name, int defaultValue) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return Integer.parseInt(args[i + 1]);
      }
    }
    return defaultValue;
  }
}
