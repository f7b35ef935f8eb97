package io.mysimbdp.node.pipeline;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where tenant functions run: a fixed set of threads of their own, off Akka's dispatchers, shared
 * fairly between tenants. Each tenant has its own bounded queue; the threads take work from the
 * tenants in turn (round robin), and at most {@code perTenant} pieces of one tenant's work run at
 * once. So a tenant whose function burns its whole time bound on every record occupies at most
 * {@code perTenant} threads and never delays another tenant's work behind its own queue, and no
 * actor or stream stage ever waits for a function: pipelines hand a chunk of records over and get
 * a {@link CompletionStage} back ({@code mapAsync}).
 *
 * <p>Bounded: a tenant's queue holds at most {@code queuePerTenant} pieces of work; more is refused
 * ({@link RejectedExecutionException}, the stage fails). Pipelines keep only a few chunks in flight
 * each, so this bounds the number of a tenant's concurrent files and streams, not their speed.
 */
public final class FunctionExecutor implements AutoCloseable {

  /**
   * @param threads threads running functions (0: one per available core)
   * @param perTenant most of one tenant's chunks running at once (0: half the threads, at least 1)
   * @param queuePerTenant most chunks one tenant may have waiting
   * @param chunk records a pipeline hands over at once (fewer when no more are ready)
   */
  public record Settings(int threads, int perTenant, int queuePerTenant, int chunk) {
    public static final Settings DEFAULT = new Settings(0, 0, 256, 64);

    public Settings {
      if (threads < 0 || perTenant < 0 || queuePerTenant < 1 || chunk < 1) {
        throw new IllegalArgumentException("function executor settings out of range: " + threads + ", " + perTenant
            + ", " + queuePerTenant + ", " + chunk);
      }
    }

    int effectiveThreads() {
      return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    int effectivePerTenant() {
      return Math.min(effectiveThreads(), perTenant > 0 ? perTenant : Math.max(1, effectiveThreads() / 2));
    }
  }

  /** A piece of work; {@code cancel} fails its stage when it will never run. */
  private interface Task extends Runnable {
    default void cancel(RuntimeException reason) {}
  }

  /** One tenant's waiting work, and how much of it runs now. */
  private static final class TenantQueue {
    final String tenant;
    final ArrayDeque<Task> waiting = new ArrayDeque<>();
    int running;
    boolean ready;

    TenantQueue(String tenant) {
      this.tenant = tenant;
    }
  }

  private final Settings settings;
  private final int perTenant;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition workReady = lock.newCondition();
  /** Tenants with waiting work and a free slot, in the order they get a thread. */
  private final ArrayDeque<TenantQueue> ready = new ArrayDeque<>();
  private final Map<String, TenantQueue> tenants = new HashMap<>();
  private final Thread[] threads;
  private boolean closed;

  public FunctionExecutor(Settings settings) {
    this.settings = settings;
    this.perTenant = settings.effectivePerTenant();
    this.threads = new Thread[settings.effectiveThreads()];
    for (int i = 0; i < threads.length; i++) {
      threads[i] = new Thread(this::work, "mysimbdp-functions-" + i);
      threads[i].setDaemon(true);
      threads[i].start();
    }
  }

  public Settings settings() {
    return settings;
  }

  public int threads() {
    return threads.length;
  }

  public int perTenant() {
    return perTenant;
  }

  /** Runs {@code work} on a function thread in the tenant's turn; the stage fails if it throws or the queue is full. */
  public <T> CompletionStage<T> submit(String tenant, Callable<T> work) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      enqueue(tenant, new Task() {
        @Override
        public void run() {
          try {
            result.complete(work.call());
          } catch (Throwable e) {
            result.completeExceptionally(e);
          }
        }

        @Override
        public void cancel(RuntimeException reason) {
          result.completeExceptionally(reason);
        }
      });
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(e);
    }
    return result;
  }

  /** The tenant's share as an {@link Executor} (for {@code thenApplyAsync} and the like). */
  public Executor forTenant(String tenant) {
    return task -> enqueue(tenant, task::run);
  }

  private void enqueue(String tenant, Task task) {
    lock.lock();
    try {
      if (closed) {
        throw new RejectedExecutionException("the function executor is shut down");
      }
      TenantQueue q = tenants.computeIfAbsent(tenant, TenantQueue::new);
      if (q.waiting.size() >= settings.queuePerTenant()) {
        throw new RejectedExecutionException("tenant " + tenant + " has " + q.waiting.size()
            + " chunks of records waiting for its functions, the most allowed (mysimbdp.functions.executor.queue-per-tenant)");
      }
      q.waiting.addLast(task);
      markReady(q);
    } finally {
      lock.unlock();
    }
  }

  /** Under the lock: queue the tenant for a thread if it has work and a free slot. */
  private void markReady(TenantQueue q) {
    if (!q.ready && !q.waiting.isEmpty() && q.running < perTenant) {
      q.ready = true;
      ready.addLast(q);
      workReady.signal();
    }
  }

  private void work() {
    while (true) {
      TenantQueue q;
      Task task;
      lock.lock();
      try {
        while (ready.isEmpty() && !closed) {
          workReady.awaitUninterruptibly();
        }
        if (closed) {
          return;
        }
        q = ready.pollFirst();
        q.ready = false;
        task = q.waiting.pollFirst();
        q.running++;
        markReady(q); // more of its work goes to the back of the line
      } finally {
        lock.unlock();
      }
      try {
        task.run();
      } catch (Throwable e) {
        // submit() completes its stage; a bare Runnable's failure is its caller's
      } finally {
        lock.lock();
        try {
          q.running--;
          if (q.running == 0 && q.waiting.isEmpty() && !q.ready) {
            tenants.remove(q.tenant);
          } else {
            markReady(q);
          }
        } finally {
          lock.unlock();
        }
      }
    }
  }

  /** Stops the threads after their current work; waiting work fails ({@link RejectedExecutionException}). */
  @Override
  public void close() {
    java.util.List<Task> dropped = new java.util.ArrayList<>();
    lock.lock();
    try {
      closed = true;
      for (TenantQueue q : tenants.values()) {
        dropped.addAll(q.waiting);
        q.waiting.clear();
      }
      ready.clear();
      workReady.signalAll();
    } finally {
      lock.unlock();
    }
    RejectedExecutionException reason = new RejectedExecutionException("the function executor was shut down");
    dropped.forEach(t -> t.cancel(reason));
  }
}
