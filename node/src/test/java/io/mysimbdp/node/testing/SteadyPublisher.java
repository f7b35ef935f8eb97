package io.mysimbdp.node.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A client that streams one tenant's messages over HTTP at a steady pace while nodes come and go:
 * every {@code interval} one NDJSON request of {@code perRequest} records, with stable ids
 * ({@code X-Message-Id: b<n>}, so the records are {@code b<n>-1..perRequest}; or, with
 * {@link #withIdempotencyKey()}, {@code Idempotency-Key: b<n>} and ids the platform derives from
 * it), sent to the nodes in turn. Every record also carries its id in its data as {@code seq}, so a
 * checker can count the copies of a record whatever id the store gave it. A request that is not answered 202 (the node is down or leaving: connection refused or
 * reset, 503, 429) is sent again, same ids, to the next node, until one confirms it. So every
 * message it made is confirmed in the end ({@link #confirmed()}), some of them possibly published
 * twice: the store must hold each exactly once.
 */
public final class SteadyPublisher implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String tenant;
  private final String key;
  private final Supplier<List<String>> apiUrls;
  private final int perRequest;
  private final Duration interval;
  private final Set<String> confirmed = ConcurrentHashMap.newKeySet();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLong unavailable = new AtomicLong();
  private final AtomicReference<String> failure = new AtomicReference<>();
  private final Thread thread;
  private volatile boolean stopping;
  private long batch;
  private int next;

  /** Publishes as {@code tenant} with {@code key} to the API base URLs {@code apiUrls} answers (asked per request). */
  public SteadyPublisher(String tenant, String key, Supplier<List<String>> apiUrls, int perRequest, Duration interval) {
    this(tenant, key, apiUrls, perRequest, interval, "b");
  }

  /** With ids {@code <idPrefix><n>-<line>}: several publishers for one tenant, each its own prefix. */
  public SteadyPublisher(String tenant, String key, Supplier<List<String>> apiUrls, int perRequest, Duration interval, String idPrefix) {
    this.idPrefix = idPrefix;
    this.tenant = tenant;
    this.key = key;
    this.apiUrls = apiUrls;
    this.perRequest = perRequest;
    this.interval = interval;
    this.thread = new Thread(this::run, "publisher-" + tenant);
    this.thread.setDaemon(true);
  }

  private final String idPrefix;

  private volatile String idHeader = "X-Message-Id";

  /** Names each request with {@code Idempotency-Key} instead of {@code X-Message-Id}; call before {@link #start()}. */
  public SteadyPublisher withIdempotencyKey() {
    idHeader = "Idempotency-Key";
    return this;
  }

  public SteadyPublisher start() {
    thread.start();
    return this;
  }

  private void run() {
    try {
      while (!stopping) {
        long t0 = System.nanoTime();
        batch++;
        String prefix = idPrefix + batch;
        StringBuilder body = new StringBuilder();
        for (int line = 1; line <= perRequest; line++) {
          body.append("{\"seq\":\"").append(prefix).append('-').append(line).append("\",\"batch\":").append(batch)
              .append(",\"line\":").append(line).append(",\"temperature\":21}\n");
        }
        sendUntilConfirmed(prefix, body.toString());
        for (int line = 1; line <= perRequest; line++) {
          confirmed.add(prefix + "-" + line);
        }
        long left = interval.toNanos() - (System.nanoTime() - t0);
        if (left > 0) {
          Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      failure.set(e.toString());
    }
  }

  private void sendUntilConfirmed(String prefix, String body) throws InterruptedException {
    while (true) {
      List<String> urls = apiUrls.get();
      String base = urls.get(Math.floorMod(next++, urls.size()));
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(base + "/v1/tenants/" + tenant + "/messages"))
              .timeout(Duration.ofSeconds(30))
              .header("Authorization", "Bearer " + key)
              .header("Content-Type", "application/x-ndjson")
              .header(idHeader, prefix)
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build();
      requests.incrementAndGet();
      try {
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 202) {
          return;
        }
        if (response.statusCode() != 503 && response.statusCode() != 429) {
          throw new IllegalStateException("publishing " + prefix + " to " + base + " answered " + response.statusCode() + ": " + response.body());
        }
        unavailable.incrementAndGet();
      } catch (IOException e) {
        // refused or reset: that node is down or leaving; the next one takes the same ids
      }
      retries.incrementAndGet();
      Thread.sleep(100);
    }
  }

  /** The ids of every message a node confirmed (202). */
  public Set<String> confirmed() {
    return Set.copyOf(confirmed);
  }

  public int confirmedCount() {
    return confirmed.size();
  }

  /** Requests sent, including retries. */
  public long requests() {
    return requests.get();
  }

  /** Requests sent again because a node refused, reset or answered 503/429. */
  public long retries() {
    return retries.get();
  }

  /** Of the requests sent again, those a node answered 503 or 429 (the rest: refused or reset). */
  public long unavailable() {
    return unavailable.get();
  }

  /** Why the publisher gave up (an unexpected answer), or null. */
  public String failure() {
    return failure.get();
  }

  /** Stops making new messages; the request under way is still sent until confirmed. */
  @Override
  public void close() throws InterruptedException {
    stopping = true;
    thread.join(Duration.ofMinutes(3).toMillis());
    if (thread.isAlive()) {
      thread.interrupt();
      throw new AssertionError("the publisher of " + tenant + " could not get its last request confirmed within 3 minutes");
    }
  }
}
