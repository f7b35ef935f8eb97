package io.mysimbdp.node.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The function threads: tenants served in turn, a tenant capped at its share, queues bounded. */
class FunctionExecutorTest {

  /** One thread, tenant B has five chunks waiting: A's chunk runs after B's current one, not after all five. */
  @Test
  void tenantsAreServedInTurn() throws Exception {
    try (FunctionExecutor executor = new FunctionExecutor(new FunctionExecutor.Settings(1, 1, 16, 64))) {
      CountDownLatch release = new CountDownLatch(1);
      List<String> order = java.util.Collections.synchronizedList(new ArrayList<>());
      List<CompletableFuture<String>> all = new ArrayList<>();
      all.add(executor.submit("b", () -> {
        release.await();
        order.add("b0");
        return "b0";
      }).toCompletableFuture());
      for (int i = 1; i < 5; i++) {
        String id = "b" + i;
        all.add(executor.submit("b", () -> {
          order.add(id);
          return id;
        }).toCompletableFuture());
      }
      all.add(executor.submit("a", () -> {
        order.add("a0");
        return "a0";
      }).toCompletableFuture());
      release.countDown();
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      assertEquals(List.of("b0", "a0", "b1", "b2", "b3", "b4"), order);
    }
  }

  /** Two threads, one per tenant: B's two stuck chunks hold one thread, A still runs on the other. */
  @Test
  void aTenantNeverHoldsMoreThanItsShareOfThreads() throws Exception {
    try (FunctionExecutor executor = new FunctionExecutor(new FunctionExecutor.Settings(2, 1, 16, 64))) {
      assertEquals(2, executor.threads());
      assertEquals(1, executor.perTenant());
      CountDownLatch release = new CountDownLatch(1);
      CompletableFuture<Integer> b1 = executor.submit("b", () -> {
        release.await();
        return 1;
      }).toCompletableFuture();
      CompletableFuture<Integer> b2 = executor.submit("b", () -> {
        release.await();
        return 2;
      }).toCompletableFuture();
      String thread = executor.submit("a", () -> Thread.currentThread().getName()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertTrue(thread.startsWith("mysimbdp-functions-"), thread);
      assertTrue(!b1.isDone() && !b2.isDone());
      release.countDown();
      assertEquals(3, b1.get(10, TimeUnit.SECONDS) + b2.get(10, TimeUnit.SECONDS));
    }
  }

  /** A tenant's queue is bounded: work beyond it fails at once, other tenants are not affected; failures reach the stage. */
  @Test
  void queuesAreBoundedAndFailuresReachTheCaller() throws Exception {
    try (FunctionExecutor executor = new FunctionExecutor(new FunctionExecutor.Settings(2, 1, 2, 64))) {
      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      CompletableFuture<Integer> running = executor.submit("b", () -> {
        started.countDown();
        release.await();
        return 0;
      }).toCompletableFuture();
      assertTrue(started.await(10, TimeUnit.SECONDS)); // B is at its share: the next two wait in its queue
      CompletableFuture<Integer> q1 = executor.submit("b", () -> 1).toCompletableFuture();
      CompletableFuture<Integer> q2 = executor.submit("b", () -> 2).toCompletableFuture();
      CompletableFuture<Integer> refused = executor.submit("b", () -> 3).toCompletableFuture();
      ExecutionException e = assertThrows(ExecutionException.class, () -> refused.get(10, TimeUnit.SECONDS));
      assertInstanceOf(RejectedExecutionException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("queue-per-tenant"), e.getCause().getMessage());
      CompletableFuture<Integer> other = executor.submit("a", () -> 4).toCompletableFuture();
      release.countDown();
      assertEquals(0 + 1 + 2 + 4, running.get(10, TimeUnit.SECONDS) + q1.get(10, TimeUnit.SECONDS)
          + q2.get(10, TimeUnit.SECONDS) + other.get(10, TimeUnit.SECONDS));
      CompletableFuture<Object> failing = executor.submit("a", () -> {
        throw new IllegalStateException("boom");
      }).toCompletableFuture();
      ExecutionException f = assertThrows(ExecutionException.class, () -> failing.get(10, TimeUnit.SECONDS));
      assertEquals("boom", f.getCause().getMessage());
    }
  }
}
