package io.mysimbdp.node;

/**
 * Keeps CompletableFuture's asynchronous continuations on a pool on small machines.
 *
 * <p>A continuation that names no executor runs on the common ForkJoinPool, unless that pool's
 * parallelism is below 2 — which it is by default with 2 cores or fewer (cores - 1) — and then
 * CompletableFuture starts a new thread for each one. The CompletionStages Akka hands out (from
 * Scala futures) run even {@code thenApply} and {@code thenCompose} in their async form, so on a
 * 2-core node every stage of every request started a thread: about 30 thread starts per small
 * batch file, 90 a second under a light load. The common pool gets at least 2 threads instead.
 * Must run before anything uses the common pool: first thing in {@link Main}; a JVM that embeds a
 * node calls this first too (the benchmark mains do) or sets {@value #PROPERTY} on its command line
 * (the test JVMs do, through surefire's argLine).
 */
public final class CommonPoolParallelism {
  public static final String PROPERTY = "java.util.concurrent.ForkJoinPool.common.parallelism";

  private CommonPoolParallelism() {}

  /** The common pool's parallelism for {@code cores}: the JDK's default (cores - 1), at least 2. */
  public static int forCores(int cores) {
    return Math.max(2, cores - 1);
  }

  /** Sets {@value #PROPERTY} unless the command line did. */
  public static void ensure() {
    if (System.getProperty(PROPERTY) == null) {
      System.setProperty(PROPERTY, Integer.toString(forCores(Runtime.getRuntime().availableProcessors())));
    }
  }
}
