package io.mysimbdp.node.bench;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/** The benchmarks' clients: a fixed number of them, each taking its share of 0..n-1, over one HTTP client. */
final class BenchClients {
  static final int CLIENTS = 8;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).executor(Executors.newFixedThreadPool(CLIENTS)).build();

  private BenchClients() {}

  /** Runs {@code work} for 0..n-1 on {@value #CLIENTS} clients, each a contiguous share; returns when all are done. */
  static void runAll(int n, IntConsumer work) throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      List<Future<?>> done = new ArrayList<>();
      int per = (n + CLIENTS - 1) / CLIENTS;
      for (int c = 0; c < CLIENTS; c++) {
        int from = c * per;
        int to = Math.min(n, from + per);
        done.add(clients.submit(() -> {
          for (int i = from; i < to; i++) {
            work.accept(i);
          }
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      clients.shutdownNow();
    }
  }

  static HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return HTTP.send(request.timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static void expect(HttpResponse<String> r, int status, String what) {
    if (r.statusCode() != status) {
      throw new IllegalStateException(what + ": " + r.statusCode() + " " + r.body());
    }
  }
}
