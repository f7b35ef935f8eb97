package io.mysimbdp.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

class CommonPoolParallelismTest {

  @Test
  void smallMachinesGetTwoThreadsLargerOnesTheJdksDefault() {
    assertEquals(2, CommonPoolParallelism.forCores(1));
    assertEquals(2, CommonPoolParallelism.forCores(2));
    assertEquals(2, CommonPoolParallelism.forCores(3));
    assertEquals(3, CommonPoolParallelism.forCores(4));
    assertEquals(15, CommonPoolParallelism.forCores(16));
  }

  @Test
  void asyncContinuationsRunOnThePoolNotOnAThreadEach() {
    assertTrue(ForkJoinPool.getCommonPoolParallelism() >= 2, "the test JVM sets " + CommonPoolParallelism.PROPERTY);
    Set<String> threads = ConcurrentHashMap.newKeySet();
    CompletableFuture<?>[] all = new CompletableFuture<?>[200];
    for (int i = 0; i < all.length; i++) {
      all[i] = CompletableFuture.completedFuture(i).thenApplyAsync(n -> threads.add(Thread.currentThread().getName()));
    }
    CompletableFuture.allOf(all).join();
    assertTrue(threads.stream().allMatch(name -> name.startsWith("ForkJoinPool.commonPool-worker")), threads::toString);
    // Not a thread each (the JDK's fallback at parallelism 1 names its threads Thread-N, one per
    // task): a few pool workers. The pool may have added spare workers for tasks elsewhere in this
    // JVM that block, so the bound is loose.
    assertTrue(threads.size() < all.length / 4, threads::toString);
  }
}
