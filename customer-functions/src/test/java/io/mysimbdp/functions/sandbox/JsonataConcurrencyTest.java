package io.mysimbdp.functions.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.mysimbdp.functions.JsonDiff;
import io.mysimbdp.functions.WaterQualityData;
import io.mysimbdp.functions.spi.FunctionContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * One compiled expression serves many threads. jsonata-java 0.9.8's own evaluate() is not safe for
 * that (its per-thread evaluator overwrites the shared environment); the sandbox evaluates in its
 * own frames, which this test exercises: several expressions with different $config, compiled on
 * the test thread, evaluated interleaved on 4 threads, must give the sequential results.
 */
class JsonataConcurrencyTest {
  private static final SandboxLimits LIMITS = SandboxLimits.DEFAULT.withTimeout(Duration.ofSeconds(10));

  @Test
  void sharedCompiledFunctionsGiveTheSameResultsOnManyThreads() throws Exception {
    List<Map<String, Object>> rows = WaterQualityData.rows().subList(0, 1_500);
    List<JsonataFunction> functions =
        List.of(
            JsonataFunction.compile(WaterQualityData.resource("examples/alice.jsonata"), LIMITS),
            JsonataFunction.compile(WaterQualityData.resource("examples/bob.jsonata"), LIMITS),
            JsonataFunction.compile(
                WaterQualityData.resource("examples/bob.jsonata"),
                Map.of("thresholds", Map.of("Ammonia(N)", 0, "Temp Water", 10)),
                LIMITS),
            JsonataFunction.compile("{'tenant': $context.tenant, 'k': $config.k, 'id': `@id`}", Map.of("k", 1), LIMITS),
            JsonataFunction.compile("{'tenant': $context.tenant, 'k': $config.k, 'id': `@id`}", Map.of("k", 2), LIMITS));

    List<List<List<Map<String, Object>>>> expected = new ArrayList<>();
    for (JsonataFunction f : functions) {
      List<List<Map<String, Object>>> out = new ArrayList<>();
      for (int i = 0; i < rows.size(); i++) {
        out.add(f.apply(rows.get(i), context(i)));
      }
      expected.add(out);
    }

    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int offset = t;
        results.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < rows.size(); i++) {
                    int row = (i + offset * 375) % rows.size();
                    for (int k = 0; k < functions.size(); k++) {
                      JsonataFunction f = functions.get((k + offset) % functions.size());
                      int index = (k + offset) % functions.size();
                      String diff =
                          JsonDiff.diff(
                              expected.get(index).get(row), f.apply(rows.get(row), context(row)));
                      if (diff != null) {
                        return "function " + index + " row " + row + ": " + diff;
                      }
                    }
                  }
                  return null;
                }));
      }
      for (Future<String> r : results) {
        assertNull(r.get());
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(2L, expected.get(4).get(0).get(0).get("k"));
  }

  /**
   * With the library's public evaluate(), the second expression here answers {"leak": "tenant A
   * data"}: on the thread that compiled it last, it shares the first one's evaluation frame.
   */
  @Test
  void variablesDoNotLeakBetweenExpressionsOnOneThread() throws Exception {
    JsonataFunction tenantA = JsonataFunction.compile("$secret := 'tenant A data'", LIMITS);
    JsonataFunction tenantB = JsonataFunction.compile("{'leak': $secret}", LIMITS);
    org.junit.jupiter.api.Assertions.assertThrows(
        io.mysimbdp.functions.spi.FunctionException.class, () -> tenantA.apply(Map.of(), context(0)));
    assertEquals(List.of(Map.of()), tenantB.apply(Map.of(), context(0)));
  }

  private static FunctionContext context(int i) {
    return new FunctionContext("tenant-" + (i % 3), "wq", "csv", i);
  }
}
