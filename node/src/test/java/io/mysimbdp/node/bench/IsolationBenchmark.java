package io.mysimbdp.node.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.typesafe.config.Config;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.ExampleData;
import io.mysimbdp.node.testing.TestNode;
import io.mysimbdp.protocol.ProtocolJson;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Tenant isolation under hostile functions (issue #5): tenant A ingests the water-quality rows
 * (repeated to N, default 20,000) through Alice's sandboxed JSONata function while tenant B sends
 * 12-record files at a fixed pace through one function.
 *
 * <p><b>B's pace.</b> One file every {@code B_INTERVAL} ms (default 250): at each slot B's client
 * re-enables its function ({@code POST .../reset}, the worst case: every reset buys another bound
 * violation), uploads the file and starts its ingestion, then sleeps until the next slot. It does
 * not wait for the job (the pace does not depend on how fast the node answers); a slot the client
 * is already past is skipped and counted as late, never caught up in a burst. A reset refused by
 * the function routes' rate limit (429, {@code mysimbdp.functions.rate-limit}) is expected and
 * counted: the file then goes through the still-DISABLED function, whose records must be
 * dead-lettered at once with {@code is disabled}. B's token bucket is emptied before each of its
 * runs, so every run sees the long-run rate of re-enables (one per refill interval) and not a
 * burst whose share would depend on the order of the cases.
 *
 * <p><b>Cases.</b> For each hostile function, every round measures three cases: A alone, A with
 * B on the benign function ({@code $}) and A with B on the hostile one, at the same pace and with
 * the same calls; the order of the three changes from round to round (the six orders in turn), so
 * a drift of the shared machine's load does not land on one case. A's rate is the job's own
 * (records written / its elapsed time on the node); the ratios hostile ÷ benign (what the
 * hostility costs A) and hostile ÷ alone (what B costs A in all) are printed per round and as
 * median, min and max per function, with the JVM's CPU time during A's run and per B file.
 *
 * <p><b>Stopped within 1 s.</b> After each reset that went through, B's watcher reads the
 * function's status through the API until it is DISABLED again: the time from B's upload of the
 * file (client clock, before the request) to the status's {@code since} (the node's clock: the
 * same machine), and, as an upper bound, to the poll that first saw it. B's dead letters are read
 * back through the API ({@code GET .../data/dead_letters}) and counted by reason. A's dead-lettered
 * records must be 0.
 *
 * <p>Run: {@code scripts/bench-isolation.sh [rows] [rounds] [hostile functions, e.g. loop,append]
 * [B's interval in ms]} ({@code B_INTERVAL} in the environment also sets the interval; the
 * rate limit comes from the node's config, e.g. {@code FUNCTIONS_RATE_LIMIT_PER_MINUTE}).
 */
public final class IsolationBenchmark {
  static {
    io.mysimbdp.node.CommonPoolParallelism.ensure(); // a main that embeds a node: before anything starts the common pool
  }

  static final Duration JOB_TIMEOUT = Duration.ofMinutes(10);
  /** How often B's watcher reads its jobs and, after a reset, its function's status. */
  static final Duration POLL = Duration.ofMillis(100);
  /** A reset that is not followed by DISABLED within this long counts as not stopped. */
  static final Duration DISABLE_WAIT = Duration.ofSeconds(10);
  static final int RECORDS_PER_B_FILE = 12;
  /** A's records dead-lettered in measured runs (a bound that fired on a legitimate record). */
  static final AtomicLong LOST = new AtomicLong();

  enum Case {
    ALONE("alone"), BENIGN("benign"), HOSTILE("hostile");

    final String label;

    Case(String label) {
      this.label = label;
    }
  }

  /** The six orders of the three cases: the rotations, then the reversed rotations. */
  static final Case[][] ORDERS = {
      {Case.ALONE, Case.BENIGN, Case.HOSTILE}, {Case.BENIGN, Case.HOSTILE, Case.ALONE},
      {Case.HOSTILE, Case.ALONE, Case.BENIGN}, {Case.HOSTILE, Case.BENIGN, Case.ALONE},
      {Case.BENIGN, Case.ALONE, Case.HOSTILE}, {Case.ALONE, Case.HOSTILE, Case.BENIGN}};

  /** B's hostile functions, those of the isolation test. */
  static Map<String, String> hostileFunctions() {
    Map<String, String> b = new LinkedHashMap<>();
    b.put("loop", "($loop := function($i) { $loop($i + 1) }; $loop(0))");
    b.put("append", "$reduce([1..100000], function($acc, $i) { $append($acc, $i) }, [])");
    b.put("alloc", "$reduce([1..40], function($acc, $i) { $acc & $acc }, 'xxxxxxxx')");
    b.put("spread", "{'a': [1..10000000]}");
    b.put("recursion", "($f := function($i) { 1 + $f($i + 1) }; $f(0))");
    b.put("host", "{'x': $class('java.lang.Runtime')}");
    return b;
  }

  static final String BENIGN = "benign";

  public static void main(String[] args) throws Exception {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Map<String, String> hostile = hostileFunctions();
    if (args.length > 2 && !args[2].isBlank()) { // a subset, e.g. "loop,append"; idle and benign run in every round now
      List<String> only = List.of(args[2].split(","));
      List<String> unknown = only.stream()
          .filter(f -> !hostile.containsKey(f) && !f.equals("idle") && !f.equals("benign")).toList();
      if (!unknown.isEmpty()) {
        throw new IllegalArgumentException("unknown functions " + unknown + "; B's hostile functions are " + hostile.keySet());
      }
      hostile.keySet().retainAll(only);
      if (hostile.isEmpty()) {
        throw new IllegalArgumentException("name at least one hostile function (" + hostileFunctions().keySet()
            + "); A alone and B benign are measured in every round");
      }
    }
    String env = System.getenv("B_INTERVAL");
    long intervalMs = args.length > 3 ? Long.parseLong(args[3]) : env != null && !env.isBlank() ? Long.parseLong(env.trim()) : 250;
    if (intervalMs < 1) {
      throw new IllegalArgumentException("B's interval must be at least 1 ms");
    }
    Duration interval = Duration.ofMillis(intervalMs);

    Path work = Files.createTempDirectory("mysimbdp-bench-isolation");
    Path source = ExampleData.waterQuality();
    byte[] csv = repeated(Files.readAllLines(source, StandardCharsets.UTF_8), rows);
    String alice;
    try (InputStream in = IsolationBenchmark.class.getResourceAsStream("/examples/alice.jsonata")) {
      alice = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    try (TestNode node = TestNode.start(work.resolve("node"));
        MongoClient mongo = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString())) {
      HttpApi api = node.api;
      Config limit = node.testKit.system().settings().config().getConfig("mysimbdp.functions.rate-limit");
      String a = api.createTenant("a");
      String b = api.createTenant("b");
      api.constraints("a", "{\"maxFiles\":100000}");
      api.constraints("b", "{\"maxFiles\":100000}");
      put(api, "a", a, "alice", Map.of("jsonata", alice));
      map(api, "a", a, "water", "alice", "measurements");
      StringBuilder twelve = new StringBuilder();
      for (int i = 0; i < RECORDS_PER_B_FILE; i++) {
        twelve.append("{\"i\":").append(i).append("}\n");
      }
      byte[] small = twelve.toString().getBytes(StandardCharsets.UTF_8);
      put(api, "b", b, BENIGN, Map.of("jsonata", "$"));
      map(api, "b", b, BENIGN, BENIGN, "records");
      for (var f : hostile.entrySet()) {
        put(api, "b", b, f.getKey(), Map.of("jsonata", f.getValue()));
        map(api, "b", b, f.getKey(), f.getKey(), "records");
      }
      System.out.printf(Locale.ROOT, "A: %,d rows through Alice's JSONata; B: a %d-record file every %d ms through one function, "
              + "reset before each (rate limit: %s a minute, burst %d); %d rounds of alone / benign B / hostile B, order rotating%n",
          rows, RECORDS_PER_B_FILE, intervalMs, limit.getNumber("per-minute"), limit.getInt("burst"), rounds);
      for (int i = 0; i < 3; i++) {
        run(api, mongo, "a", a, csv, true); // warm-up: JIT, store
      }
      for (String f : List.of(BENIGN, hostile.keySet().iterator().next())) { // B's path warmed too
        BRun warm = new BRun(api, b, f, !f.equals(BENIGN), small, interval);
        warm.start();
        Thread.sleep(4 * intervalMs);
        warm.finish();
        clean(mongo);
      }

      Map<String, List<Measurement>> results = new LinkedHashMap<>();
      for (int round = 1; round <= rounds; round++) {
        Case[] order = ORDERS[(round - 1) % ORDERS.length];
        for (String f : hostile.keySet()) {
          Measurement m = new Measurement(round, order);
          for (Case c : order) {
            String loadBefore = load();
            BRun bRun = c == Case.ALONE ? null
                : new BRun(api, b, c == Case.BENIGN ? BENIGN : f, c == Case.HOSTILE, small, interval);
            if (bRun != null) {
              bRun.drainBucket();
              bRun.start();
              Thread.sleep(300); // B is running before A starts
            }
            long lostBefore = LOST.get();
            long cpu0 = cpuNanos();
            double rate = run(api, mongo, "a", a, csv, false);
            double cpu = (cpuNanos() - cpu0) / 1e9;
            if (bRun != null) {
              bRun.finish();
              bRun.readDeadLetters();
              clean(mongo);
            }
            m.put(c, new CaseResult(rate, cpu, LOST.get() - lostBefore, bRun, loadBefore, load()));
          }
          results.computeIfAbsent(f, k -> new ArrayList<>()).add(m);
          m.print(f);
        }
      }
      summary(results, intervalMs);
      System.out.println("cores " + Runtime.getRuntime().availableProcessors() + ", load at end " + load());
    }
  }

  // ---- B: files at a fixed pace, and a watcher that reads what the API says about them

  /** One run of B through one function: the pacer thread, the watcher thread, and what they saw. */
  static final class BRun {
    final HttpApi api;
    final String key;
    final String function;
    final boolean hostile;
    final byte[] file;
    final Duration interval;
    volatile boolean stopping;
    Thread pacer;
    Thread watcher;

    // the pacer's counts (its thread only, read after join)
    long slots;
    long late;
    long files;
    long resetsOk;
    long resets429;
    final List<String> errors = new ArrayList<>();
    // the watcher's (its thread only, read after join)
    long jobsDone;
    long jobsFailed;
    long records;
    long written;
    long deadLetters;
    final List<Long> jobMillis = new ArrayList<>();
    /** Upload → status.since of the DISABLE that followed a reset, and upload → the poll that saw it. */
    final List<Double> disabledAfterMs = new ArrayList<>();
    final List<Double> seenAfterMs = new ArrayList<>();
    long notDisabled;
    long superseded;
    String lastStatus = "";
    /** The function's state and reason once B's run is over. */
    String endStatus = "";
    // after finish
    final Map<String, Long> reasons = new TreeMap<>();
    long lettersRead;

    /** A started ingestion the watcher follows to its end. */
    record Job(String id) {}

    /** A file sent right after a reset that went through: the watcher waits for DISABLED. */
    record Watch(long slot, Instant uploadedAt, long uploadedNanos) {}

    final ConcurrentLinkedQueue<Job> started = new ConcurrentLinkedQueue<>();
    volatile Watch watch;

    BRun(HttpApi api, String key, String function, boolean hostile, byte[] file, Duration interval) {
      this.api = api;
      this.key = key;
      this.function = function;
      this.hostile = hostile;
      this.file = file;
      this.interval = interval;
    }

    String fn() {
      return "/v1/tenants/b/functions/" + function;
    }

    /** Takes every token of B's bucket (resets, which run nothing), so the run starts from the long-run rate. */
    void drainBucket() {
      for (int i = 0; i < 1_000; i++) {
        if (api.postJson(fn() + "/reset", key, "").status() == 429) {
          return;
        }
      }
      throw new IllegalStateException("B's resets are not limited: is mysimbdp.functions.rate-limit configured?");
    }

    void start() {
      pacer = new Thread(this::pace, "tenant-b-pacer");
      watcher = new Thread(this::watch, "tenant-b-watcher");
      pacer.start();
      watcher.start();
    }

    /** Stops sending; waits for B's jobs (and a pending DISABLE) to end, so nothing of B spills into the next case. */
    void finish() throws InterruptedException {
      stopping = true;
      pacer.join();
      watcher.join();
      JsonNode status = functionStatus();
      endStatus = status.path("state").asText() + (status.path("reason").isTextual() ? ": " + status.path("reason").asText() : "");
    }

    private void pace() {
      long next = System.nanoTime();
      while (!stopping) {
        long now = System.nanoTime();
        if (now < next) {
          LockSupport.parkNanos(next - now);
          continue;
        }
        slots++;
        HttpApi.Reply reset = api.postJson(fn() + "/reset", key, "");
        boolean enabled = false;
        if (reset.status() == 200) {
          resetsOk++;
          enabled = true;
        } else if (reset.status() == 429) {
          resets429++;
        } else {
          errors.add("reset: " + reset);
        }
        Instant uploadedAt = Instant.now();
        long uploadedNanos = System.nanoTime();
        if (enabled && hostile) {
          setWatch(new Watch(slots, uploadedAt, uploadedNanos));
        }
        HttpApi.Reply up = api.uploadCopy("b", key, function + ".ndjson", function, "application/x-ndjson", file);
        if (up.status() != 201) {
          errors.add("upload: " + up);
        } else {
          HttpApi.Reply job = api.postJson("/v1/tenants/b/ingestions", key,
              "{\"files\":[\"" + up.json().path("id").asText() + "\"]}");
          if (job.status() != 202) {
            errors.add("ingestion: " + job);
          } else {
            files++;
            started.add(new Job(job.json().path("id").asText()));
          }
        }
        next += interval.toNanos();
        long after = System.nanoTime();
        if (after - next > 0) { // past the next slot already: skip to now, do not catch up in a burst
          late += (after - next) / interval.toNanos() + 1;
          next = after;
        }
      }
    }

    private void watch() {
      List<Job> open = new ArrayList<>();
      while (true) {
        Job j;
        while ((j = started.poll()) != null) {
          open.add(j);
        }
        boolean pacerDone = !pacer.isAlive();
        if (pacerDone && open.isEmpty() && started.isEmpty() && watch == null) {
          return;
        }
        for (var it = open.iterator(); it.hasNext();) {
          Job job = it.next();
          JsonNode state = api.get("/v1/tenants/b/ingestions/" + job.id(), key).json();
          String s = state.path("state").asText();
          if (s.equals("succeeded") || s.equals("failed")) {
            it.remove();
            jobsDone++;
            if (s.equals("failed")) {
              jobsFailed++;
            }
            records += state.path("records").path("read").asLong();
            written += state.path("records").path("written").asLong();
            deadLetters += state.path("records").path("failed").asLong();
            jobMillis.add(state.path("elapsedMillis").asLong());
          }
        }
        Watch w = watch;
        if (w != null) {
          JsonNode status = functionStatus();
          long seen = System.nanoTime();
          Instant since = instant(status.path("since").asText(null));
          if (status.path("state").asText().equals("DISABLED") && since != null
              && !since.isBefore(w.uploadedAt().minusMillis(1))) {
            disabledAfterMs.add(Duration.between(w.uploadedAt(), since).toNanos() / 1e6);
            seenAfterMs.add((seen - w.uploadedNanos()) / 1e6);
            lastStatus = status.path("reason").asText();
            clearWatch(w);
          } else if (seen - w.uploadedNanos() > DISABLE_WAIT.toNanos()) {
            notDisabled++;
            lastStatus = "not DISABLED " + DISABLE_WAIT.toSeconds() + " s after the upload: " + status;
            clearWatch(w);
          }
        }
        LockSupport.parkNanos(POLL.toNanos());
      }
    }

    private synchronized void setWatch(Watch w) {
      if (watch != null) {
        superseded++; // this reset re-enabled the function before the watcher saw the earlier DISABLE
      }
      watch = w;
    }

    private synchronized void clearWatch(Watch w) {
      if (watch == w) {
        watch = null;
      }
    }

    /** The function's status as {@code GET .../functions} answers it (the list: one store read). */
    JsonNode functionStatus() {
      for (JsonNode f : api.get("/v1/tenants/b/functions", key).json().path("functions")) {
        if (f.path("name").asText().equals(function)) {
          return f.path("status");
        }
      }
      throw new IllegalStateException("no function " + function + " for tenant b");
    }

    /** B's dead letters through the API, counted by reason (the function's name and file positions left out). */
    void readDeadLetters() {
      String after = null;
      do {
        String path = "/v1/tenants/b/data/dead_letters?limit=1000"
            + (after == null ? "" : "&after=" + URLEncoder.encode(after, StandardCharsets.UTF_8));
        JsonNode page = api.get(path, key).json();
        for (JsonNode letter : page.path("records")) {
          lettersRead++;
          reasons.merge(reasonKind(letter.path("stage").asText(), letter.path("reason").asText()), 1L, Long::sum);
        }
        after = page.path("next").isTextual() ? page.path("next").asText() : null;
      } while (after != null);
    }

    /** "is disabled" or the bound's message, cut short: the same reason for every file counts once. */
    static String reasonKind(String stage, String reason) {
      if (reason.isBlank()) {
        return stage + ": (no reason)";
      }
      if (reason.contains("is disabled")) {
        return stage + ": ... is disabled: ...";
      }
      String r = reason.replaceAll("\\d+ ms", "N ms").replaceAll("\\d+ (characters|elements|size units)", "N $1");
      return stage + ": " + (r.length() > 90 ? r.substring(0, 90) + "…" : r);
    }
  }

  // ---- results

  record CaseResult(double rate, double cpuSeconds, long aLost, BRun b, String loadBefore, String loadAfter) {}

  static final class Measurement {
    final int round;
    final Case[] order;
    final Map<Case, CaseResult> cases = new LinkedHashMap<>();

    Measurement(int round, Case[] order) {
      this.round = round;
      this.order = order;
    }

    void put(Case c, CaseResult r) {
      cases.put(c, r);
    }

    double rate(Case c) {
      return cases.get(c).rate();
    }

    double hostileOverBenign() {
      return rate(Case.HOSTILE) / rate(Case.BENIGN);
    }

    double hostileOverAlone() {
      return rate(Case.HOSTILE) / rate(Case.ALONE);
    }

    double benignOverAlone() {
      return rate(Case.BENIGN) / rate(Case.ALONE);
    }

    /** JVM CPU during A's run with B minus A alone, per B file. */
    double cpuPerBFile(Case c) {
      BRun b = cases.get(c).b();
      return b.files == 0 ? 0 : (cases.get(c).cpuSeconds() - cases.get(Case.ALONE).cpuSeconds()) / b.files;
    }

    void print(String f) {
      StringBuilder o = new StringBuilder();
      for (Case c : order) {
        o.append(o.length() == 0 ? "" : ",").append(c.label);
      }
      CaseResult alone = cases.get(Case.ALONE);
      CaseResult benign = cases.get(Case.BENIGN);
      CaseResult hostile = cases.get(Case.HOSTILE);
      System.out.printf(Locale.ROOT, "round %d  B=%-9s (%s)  A rec/s: alone %,.0f  benign B %,.0f  hostile B %,.0f  "
              + "hostile/benign %.2f  hostile/alone %.2f  JVM CPU %.2f / %.2f / %.2f s  A dead-lettered %d/%d/%d  load %s -> %s%n",
          round, f, o, alone.rate(), benign.rate(), hostile.rate(), hostileOverBenign(), hostileOverAlone(),
          alone.cpuSeconds(), benign.cpuSeconds(), hostile.cpuSeconds(), alone.aLost(), benign.aLost(), hostile.aLost(),
          cases.get(order[0]).loadBefore(), cases.get(order[order.length - 1]).loadAfter());
      for (Case c : List.of(Case.BENIGN, Case.HOSTILE)) {
        BRun b = cases.get(c).b();
        System.out.printf(Locale.ROOT, "          B %-7s %d files (%d late slots), %d records, %d written, %d dead letters, "
                + "resets %d ok / %d refused (429), jobs %s ms, JVM CPU +%.0f ms per B file%s%n",
            c.label, b.files, b.late, b.records, b.written, b.deadLetters, b.resetsOk, b.resets429,
            spread(b.jobMillis.stream().map(Long::doubleValue).toList(), "%.0f"), 1000 * cpuPerBFile(c),
            b.errors.isEmpty() ? "" : "; ERRORS " + b.errors.size() + ", first: " + b.errors.get(0));
      }
      BRun h = hostile.b();
      System.out.printf(Locale.ROOT, "          DISABLED after upload (status.since): %s ms, seen by polling %s ms; %d of %d resets, "
              + "%d not disabled within %d s, %d superseded%n",
          spread(h.disabledAfterMs, "%.0f"), spread(h.seenAfterMs, "%.0f"), h.disabledAfterMs.size(), h.resetsOk,
          h.notDisabled, DISABLE_WAIT.toSeconds(), h.superseded);
      System.out.println("          status at the end: " + h.endStatus + "; dead letters by reason: " + h.reasons);
      if (h.notDisabled > 0) {
        System.out.println("          " + h.lastStatus);
      }
      if (h.jobsFailed + benign.b().jobsFailed > 0) {
        System.out.println("          B jobs FAILED: " + h.jobsFailed + " hostile, " + benign.b().jobsFailed + " benign");
      }
    }
  }

  static void summary(Map<String, List<Measurement>> results, long intervalMs) {
    System.out.println();
    System.out.println("== isolation benchmark: per hostile function over the rounds; ratios of A's rec/s (median, min-max); "
        + "B a file every " + intervalMs + " ms, reset before each ==");
    double worstDisable = 0;
    long missed = 0;
    long observed = 0;
    for (var e : results.entrySet()) {
      List<Measurement> ms = e.getValue();
      List<Double> hb = ms.stream().map(Measurement::hostileOverBenign).toList();
      List<Double> ha = ms.stream().map(Measurement::hostileOverAlone).toList();
      List<Double> ba = ms.stream().map(Measurement::benignOverAlone).toList();
      System.out.printf(Locale.ROOT, "B=%-9s hostile/benign %s  hostile/alone %s  (benign/alone %s)%n", e.getKey(),
          ratio(hb), ratio(ha), ratio(ba));
      for (Case c : List.of(Case.BENIGN, Case.HOSTILE)) {
        long files = 0, records = 0, letters = 0, refused = 0, ok = 0, late = 0;
        List<Double> cpu = new ArrayList<>();
        for (Measurement m : ms) {
          BRun b = m.cases.get(c).b();
          files += b.files;
          records += b.records;
          letters += b.deadLetters;
          refused += b.resets429;
          ok += b.resetsOk;
          late += b.late;
          cpu.add(m.cpuPerBFile(c));
        }
        System.out.printf(Locale.ROOT, "          B %-7s %d files (%d late slots), %d records, %d dead letters, resets %d ok / %d 429; "
                + "JVM CPU per B file: median %.0f ms%n",
            c.label, files, late, records, letters, ok, refused, 1000 * median(cpu));
      }
      List<Double> disabled = new ArrayList<>();
      List<Double> seen = new ArrayList<>();
      long notDisabled = 0;
      long aLost = 0;
      Map<String, Long> reasons = new TreeMap<>();
      String status = "";
      for (Measurement m : ms) {
        BRun h = m.cases.get(Case.HOSTILE).b();
        disabled.addAll(h.disabledAfterMs);
        seen.addAll(h.seenAfterMs);
        notDisabled += h.notDisabled;
        h.reasons.forEach((k, v) -> reasons.merge(k, v, Long::sum));
        status = h.endStatus;
        for (CaseResult r : m.cases.values()) {
          aLost += r.aLost();
        }
      }
      missed += notDisabled;
      observed += disabled.size();
      worstDisable = Math.max(worstDisable, disabled.stream().mapToDouble(Double::doubleValue).max().orElse(0));
      System.out.printf(Locale.ROOT, "          DISABLED after B's upload (status.since): %s ms over %d resets (%d not within %d s); "
              + "first seen by polling %s ms%n",
          spread(disabled, "%.0f"), disabled.size(), notDisabled, DISABLE_WAIT.toSeconds(), spread(seen, "%.0f"));
      System.out.println("          status at the end: " + status);
      System.out.println("          B's dead letters by reason: " + reasons);
      System.out.println("          A's records dead-lettered: " + aLost);
    }
    System.out.println("A's records dead-lettered in measured runs: " + LOST.get());
    if (observed == 0 && missed == 0) {
      System.out.println("DISABLED within 1 s of B's upload: not measured (no reset went through while B ran; more rows make A's runs longer)");
    } else {
      System.out.printf(Locale.ROOT, "every DISABLE after a reset within 1 s of B's upload (status.since): %s "
              + "(%d observed, slowest %.0f ms; %d not disabled within %d s)%n",
          worstDisable <= 1000 && missed == 0 ? "yes" : "NO", observed, worstDisable, missed, DISABLE_WAIT.toSeconds());
    }
  }

  static String ratio(List<Double> values) {
    if (values.isEmpty()) {
      return "-";
    }
    List<Double> s = new ArrayList<>(values);
    s.sort(Double::compare);
    return String.format(Locale.ROOT, "%.2f (%.2f-%.2f)", median(s), s.get(0), s.get(s.size() - 1));
  }

  /** "median (min-max)", or "-" for none. */
  static String spread(List<Double> values, String format) {
    if (values.isEmpty()) {
      return "-";
    }
    List<Double> s = new ArrayList<>(values);
    s.sort(Double::compare);
    return String.format(Locale.ROOT, format + " (" + format + "-" + format + ")", median(s), s.get(0), s.get(s.size() - 1));
  }

  static Instant instant(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** CPU time of this JVM (the node, its embedded store, both tenants' clients). */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(Double::compare);
    return sorted.get(sorted.size() / 2);
  }

  /** One file of A: upload, ingest, answer A's records/s as the job measured it; then drop its output. */
  static double run(HttpApi api, MongoClient mongo, String tenant, String key, byte[] csv, boolean warmUp) {
    HttpApi.Reply up = api.uploadCopy(tenant, key, "wq.csv", "water", "text/csv", csv);
    JsonNode job = api.ingestAndWait(tenant, key, List.of(up.json().path("id").asText()), JOB_TIMEOUT);
    long written = job.path("records").path("written").asLong();
    long failed = job.path("records").path("failed").asLong();
    long expected = csv.length == 0 ? 0 : job.path("records").path("read").asLong();
    var letters = mongo.getDatabase("tenant_" + tenant).getCollection("dead_letters");
    if (failed != 0) {
      System.out.println((warmUp ? "warm-up: " : "") + failed + " dead letter(s) of " + tenant + ", first: "
          + letters.find().first().getString("reason"));
      drop(mongo, "tenant_" + tenant, "dead_letters");
    }
    if (!job.path("state").asText().equals("succeeded") || written + failed != expected) {
      throw new IllegalStateException("tenant " + tenant + ": " + job);
    }
    if (!warmUp) {
      LOST.addAndGet(failed);
    }
    drop(mongo, "tenant_" + tenant, "measurements");
    return written * 1000.0 / job.path("elapsedMillis").asLong();
  }

  /** B's output and dead letters of the last run, gone before the next (not measured). */
  static void clean(MongoClient mongo) {
    drop(mongo, "tenant_b", "dead_letters");
    drop(mongo, "tenant_b", "records");
  }

  static void drop(MongoClient mongo, String database, String collection) {
    var db = mongo.getDatabase(database);
    for (String name : db.listCollectionNames()) {
      if (name.equals(collection)) {
        db.getCollection(collection).drop();
      }
    }
  }

  static byte[] repeated(List<String> lines, int rows) {
    StringBuilder out = new StringBuilder(lines.get(0)).append('\n');
    for (int i = 0; i < rows; i++) {
      out.append(lines.get(1 + i % (lines.size() - 1))).append('\n');
    }
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  static String load() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1];
    } catch (Exception e) {
      return "?";
    }
  }

  /** Uploads a function; set-up calls wait out the rate limit (429) as a client should. */
  static void put(HttpApi api, String tenant, String key, String name, Map<String, Object> spec) throws Exception {
    String body = ProtocolJson.JSON.writeValueAsString(spec);
    for (int attempt = 0; attempt < 100; attempt++) {
      HttpApi.Reply r = api.putJson("/v1/tenants/" + tenant + "/functions/" + name, key, body);
      if (r.status() == 201) {
        return;
      }
      if (r.status() != 429) {
        throw new IllegalStateException(r.toString());
      }
      TimeUnit.SECONDS.sleep(Long.parseLong(r.raw().headers().firstValue("Retry-After").orElse("1")));
    }
    throw new IllegalStateException("function " + name + " of " + tenant + " could not be uploaded");
  }

  static void map(HttpApi api, String tenant, String key, String category, String function, String collection) {
    HttpApi.Reply r = api.putJson("/v1/tenants/" + tenant + "/categories/" + category, key,
        "{\"function\":\"" + function + "\",\"collection\":\"" + collection + "\"}");
    if (r.status() != 200) {
      throw new IllegalStateException(r.toString());
    }
  }
}
