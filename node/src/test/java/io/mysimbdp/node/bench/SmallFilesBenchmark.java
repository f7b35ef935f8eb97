package io.mysimbdp.node.bench;

import io.mysimbdp.node.CommonPoolParallelism;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.TestNode;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

/**
 * What one small batch file costs the node: one tenant uploads a 12-record NDJSON file and ingests
 * it through a JSONata identity function, back to back, for a warm-up and then a measured period;
 * prints files/s, this JVM's CPU time per file (the node, its embedded store and the client) and
 * the threads started per file. Run (from the repository root; it builds what it needs):
 * {@code scripts/bench-small-files.sh [seconds=30]}; with
 * {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=1} it shows the JDK's default on a
 * 2-core machine, before {@link CommonPoolParallelism}.
 */
public final class SmallFilesBenchmark {
  static {
    CommonPoolParallelism.ensure(); // a main that embeds a node: before anything starts the common pool
  }

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    Path work = Files.createTempDirectory("mysimbdp-small-files");
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (TestNode node = TestNode.start(work.resolve("node"))) {
      HttpApi api = node.api;
      String key = api.createTenant("small");
      api.constraints("small", "{\"maxFiles\":100000}");
      IsolationBenchmark.put(api, "small", key, "identity", Map.of("jsonata", "$"));
      IsolationBenchmark.map(api, "small", key, "twelve", "identity", "records");
      StringBuilder twelve = new StringBuilder();
      for (int i = 0; i < 12; i++) {
        twelve.append("{\"i\":").append(i).append("}\n");
      }
      byte[] file = twelve.toString().getBytes(StandardCharsets.UTF_8);
      System.out.printf("common pool parallelism %d on %d cores%n", ForkJoinPool.getCommonPoolParallelism(), Runtime.getRuntime().availableProcessors());
      for (String phase : List.of("warm-up", "measured")) {
        Duration length = Duration.ofSeconds(phase.equals("warm-up") ? Math.max(5, seconds / 3) : seconds);
        long cpu0 = IsolationBenchmark.cpuNanos();
        long started0 = threads.getTotalStartedThreadCount();
        long t0 = System.nanoTime();
        int files = 0;
        while (System.nanoTime() - t0 < length.toNanos()) {
          HttpApi.Reply up = api.uploadCopy("small", key, "twelve.ndjson", "twelve", "application/x-ndjson", file);
          api.ingestAndWait("small", key, List.of(up.json().path("id").asText()), Duration.ofMinutes(1));
          files++;
        }
        double elapsed = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%-8s %d files in %.1f s (%.1f files/s): %.1f ms of JVM CPU and %.1f thread starts per file%n",
            phase, files, elapsed, files / elapsed, (IsolationBenchmark.cpuNanos() - cpu0) / 1e6 / files,
            (threads.getTotalStartedThreadCount() - started0) / (double) files);
      }
    }
  }
}
