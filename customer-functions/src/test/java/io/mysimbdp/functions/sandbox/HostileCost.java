package io.mysimbdp.functions.sandbox;

import io.mysimbdp.functions.FunctionFactory;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What one hostile function costs the node before it is disabled: per record the wall time, the
 * CPU time and the bytes allocated on the evaluating thread, the records run before the guard
 * disables it, and the collections the JVM ran meanwhile. Run:
 *
 * <pre>
 * BENCH_MAIN=io.mysimbdp.functions.sandbox.HostileCost scripts/bench-functions.sh
 * </pre>
 */
public final class HostileCost {
  private HostileCost() {}

  /** The hostile functions of the node's isolation test and benchmark. */
  public static Map<String, String> hostile() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("loop", "($loop := function($i) { $loop($i + 1) }; $loop(0))");
    h.put("alloc", "$reduce([1..40], function($acc, $i) { $acc & $acc }, 'xxxxxxxx')");
    h.put("append", "$reduce([1..100000], function($acc, $i) { $append($acc, $i) }, [])");
    h.put("spread", "{'a': [1..10000000]}");
    h.put("recursion", "($f := function($i) { 1 + $f($i + 1) }; $f(0))");
    h.put("file", "{'x': $readFile('/etc/passwd')}");
    h.put("socket", "{'x': $socket('localhost', 22)}");
    h.put("thread", "{'x': $thread(function() { 1 })}");
    h.put("host", "{'x': $class('java.lang.Runtime')}");
    return h;
  }

  public static void main(String[] args) throws Exception {
    int records = args.length > 0 ? Integer.parseInt(args[0]) : 12;
    FunctionFactory factory = FunctionFactory.standard();
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    // warm up the interpreter on a harmless expression
    GuardedFunction warm = factory.guard("warm", factory.compile("jsonata", "{'a': $string([1..100])}"));
    for (int i = 0; i < 2000; i++) {
      warm.apply(Map.of("i", (long) i), new FunctionContext("t", "c", "s", i));
    }
    System.out.printf(Locale.ROOT, "%-10s %8s %8s %9s %8s %6s %8s  %s%n",
        "function", "run", "wall ms", "cpu ms", "MiB", "GCs", "GC ms", "first error / state");
    for (var h : hostile().entrySet()) {
      GuardedFunction g = factory.guard("evil/" + h.getKey(), factory.compile("jsonata", h.getValue()));
      long wall = System.nanoTime();
      long cpu = threads.getCurrentThreadCpuTime();
      long bytes = threads.getCurrentThreadAllocatedBytes();
      long[] gc = gc();
      String first = null;
      int ran = 0;
      for (int i = 0; i < records; i++) {
        try {
          g.apply(Map.of("i", (long) i), new FunctionContext("evil", "c", "s", i));
        } catch (FunctionDisabledException e) {
          continue;
        } catch (FunctionException e) {
          if (first == null) {
            first = e.getMessage();
          }
        }
        ran++;
      }
      long[] gcAfter = gc();
      System.out.printf(Locale.ROOT, "%-10s %8d %8.1f %9.1f %8.1f %6d %8d  %s / %s%n", h.getKey(), ran,
          (System.nanoTime() - wall) / 1e6, (threads.getCurrentThreadCpuTime() - cpu) / 1e6,
          (threads.getCurrentThreadAllocatedBytes() - bytes) / 1048576.0, gcAfter[0] - gc[0], gcAfter[1] - gc[1],
          first, g.status().state() + (g.status().reason() == null ? "" : " (" + g.status().reason().replaceAll(", the last.*", "") + ")"));
    }
    legitimate(new FunctionFactory(factory.limits().withTimeout(java.time.Duration.ofSeconds(5)).withMaxAllocatedBytes(0)), threads);
  }

  /** Bytes a legitimate function allocates per record (the headroom under the allocation bound). */
  static void legitimate(FunctionFactory factory, com.sun.management.ThreadMXBean threads) throws Exception {
    for (String example : java.util.List.of("alice", "bob")) {
      GuardedFunction f = factory.guard(example, factory.compile("jsonata",
          io.mysimbdp.functions.WaterQualityData.resource("examples/" + example + ".jsonata")));
      java.util.List<Map<String, Object>> rows = io.mysimbdp.functions.WaterQualityData.rows();
      long max = 0, total = 0;
      for (int pass = 0; pass < 3; pass++) {
        for (int i = 0; i < rows.size(); i++) {
          long before = threads.getCurrentThreadAllocatedBytes();
          f.apply(rows.get(i), new FunctionContext("t", "c", "s", i));
          long used = threads.getCurrentThreadAllocatedBytes() - before;
          if (pass == 2) {
            max = Math.max(max, used);
            total += used;
          }
        }
      }
      System.out.printf(Locale.ROOT, "%s JSONata allocates %.1f KiB per record on average, at most %.1f KiB%n",
          example, total / 1024.0 / rows.size(), max / 1024.0);
    }
  }

  private static long[] gc() {
    long count = 0, millis = 0;
    for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
      count += b.getCollectionCount();
      millis += b.getCollectionTime();
    }
    return new long[] {count, millis};
  }
}
