package io.mysimbdp.node.pipeline;

import io.mysimbdp.node.functions.CategoryFunctions;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.mysimbdp.functions.quality.QualityRuleSet;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.pipeline.DeadLetters.DeadLetter;
import io.mysimbdp.protocol.ProtocolJson;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * Lists a tenant's dead letters and replays those that failed under a function (stage
 * {@code function}): each kept record runs again through the tenant's current function for its
 * category and its quality rules, exactly as ingestion would have run it, and is stored with the id
 * ingestion would have given it (file id + record index + output index, or tenant + message id).
 * A letter whose record is stored leaves the store; one that fails again stays with the new reason.
 * Writes are idempotent and a stored letter is gone, so replaying twice stores once.
 *
 * <p>Bounded: letters are read {@link #PAGE} at a time (each record at most
 * {@link DeadLetters#MAX_RECORD_BYTES}), at most {@link #MAX_REPLAY} per call, and the functions
 * run on the tenant's share of the function threads.
 */
public final class DeadLetterReplay {
  public static final int MAX_LIST = 1000;
  public static final int DEFAULT_LIST = 100;
  public static final int MAX_REPLAY = 1000;
  static final int PAGE = 100;

  /** What a replay did: letters taken, records stored, letters that failed again, and what is left of the stage. */
  public record Result(long replayed, long stored, long failedAgain, long rejectedByQuality, long remaining) {}

  /** A page of letters and the id to continue after (null at the end). */
  public record Page(List<Map<String, Object>> deadLetters, String next) {}

  /** One letter after its replay: what to write, the quality rejections, or why it failed again. */
  private record Replayed(String letterId, String collection, List<Document> documents, List<DeadLetter> rejected, String failure) {}

  private final CoreDms coreDms;
  private final CategoryFunctions categories;
  private final FunctionExecutor functions;
  private final RecordWriter writer;
  private final DeadLetters deadLetters;

  public DeadLetterReplay(CoreDms coreDms, CategoryFunctions categories, FunctionExecutor functions, RecordWriter writer,
      DeadLetters deadLetters) {
    this.coreDms = coreDms;
    this.categories = categories;
    this.functions = functions;
    this.writer = writer;
    this.deadLetters = deadLetters;
  }

  private MongoCollection<Document> collection(String tenantId) {
    return coreDms.tenantDatabase(tenantId).getCollection(DeadLetters.COLLECTION);
  }

  private static Bson filter(Optional<String> stage, Optional<String> source) {
    List<Bson> all = new ArrayList<>();
    stage.ifPresent(s -> all.add(Filters.eq("stage", s)));
    source.ifPresent(s -> all.add(Filters.eq("source.id", s)));
    return all.isEmpty() ? new Document() : Filters.and(all);
  }

  /** Letters by id (ascending), after {@code after}; without the whole record ({@code raw} has an excerpt). */
  public CompletionStage<Page> list(String tenantId, Optional<String> stage, Optional<String> source, int limit, Optional<String> after) {
    Bson filter = filter(stage, source);
    Bson paged = after.map(a -> Filters.and(filter, Filters.gt("_id", a))).orElse(filter);
    // The whole records stay in the store (up to 64 KiB each); which letters have one is asked apart.
    return coreDms.all(collection(tenantId).find(paged).sort(Sorts.ascending("_id")).limit(limit).projection(Projections.exclude("record")))
        .thenCompose(docs -> {
          List<Object> ids = docs.stream().map(d -> d.get("_id")).toList();
          CompletionStage<List<Document>> withRecord = ids.isEmpty()
              ? CompletableFuture.completedFuture(List.of())
              : coreDms.all(collection(tenantId).find(Filters.and(Filters.in("_id", ids), Filters.type("record", "string")))
                  .projection(Projections.include("_id")));
          return withRecord.thenApply(replayable -> {
            java.util.Set<Object> replayableIds = new java.util.HashSet<>();
            replayable.forEach(d -> replayableIds.add(d.get("_id")));
            List<Map<String, Object>> out = new ArrayList<>(docs.size());
            for (Document d : docs) {
              out.add(view(d, replayableIds.contains(d.get("_id")) && d.get("category") != null));
            }
            String next = docs.size() == limit ? docs.get(docs.size() - 1).getString("_id") : null;
            return new Page(out, next);
          });
        });
  }

  private static Map<String, Object> view(Document d, boolean replayable) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("id", d.get("_id"));
    v.put("stage", d.get("stage"));
    v.put("reason", d.get("reason"));
    v.put("source", d.get("source", Document.class) == null ? null : new LinkedHashMap<>(d.get("source", Document.class)));
    v.put("position", d.get("position"));
    v.put("line", d.get("line"));
    v.put("category", d.get("category"));
    v.put("at", d.getDate("at") == null ? null : d.getDate("at").toInstant().toString());
    v.put("replays", d.get("replays") instanceof Number n ? n.longValue() : 0L);
    v.put("replayable", replayable);
    v.put("raw", d.get("raw"));
    return v;
  }

  /** Replays up to {@code limit} replayable letters of stage {@code function} (of {@code source} if given). */
  public CompletionStage<Result> replay(String tenantId, Optional<String> source, int limit) {
    Bson stageFilter = filter(Optional.of(DeadLetters.Stage.FUNCTION.id()), source);
    Bson replayable = Filters.and(stageFilter, Filters.type("record", "string"), Filters.type("category", "string"));
    return replayPages(tenantId, replayable, null, limit, new Result(0, 0, 0, 0, 0))
        .thenCompose(result -> coreDms.first(collection(tenantId).countDocuments(stageFilter))
            .thenApply(count -> new Result(result.replayed(), result.stored(), result.failedAgain(), result.rejectedByQuality(),
                count.orElse(0L))));
  }

  private CompletionStage<Result> replayPages(String tenantId, Bson replayable, String after, int left, Result sofar) {
    if (left <= 0) {
      return CompletableFuture.completedFuture(sofar);
    }
    Bson filter = after == null ? replayable : Filters.and(replayable, Filters.gt("_id", after));
    return coreDms.all(collection(tenantId).find(filter).sort(Sorts.ascending("_id")).limit(Math.min(PAGE, left)))
        .thenCompose(page -> {
          if (page.isEmpty()) {
            return CompletableFuture.completedFuture(sofar);
          }
          String last = page.get(page.size() - 1).getString("_id");
          return replayPage(tenantId, page).thenCompose(done -> replayPages(tenantId, replayable, last, left - page.size(),
              new Result(sofar.replayed() + done.replayed(), sofar.stored() + done.stored(), sofar.failedAgain() + done.failedAgain(),
                  sofar.rejectedByQuality() + done.rejectedByQuality(), 0)));
        });
  }

  private CompletionStage<Result> replayPage(String tenantId, List<Document> page) {
    Map<String, CompletableFuture<CategoryFunctions.Route>> routes = new HashMap<>();
    for (Document letter : page) {
      routes.computeIfAbsent(letter.getString("category"), c -> categories.resolve(tenantId, c).toCompletableFuture());
    }
    CompletableFuture<?>[] resolving = routes.values().stream().map(f -> f.handle((r, e) -> null)).toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(resolving)
        .thenCompose(resolved -> functions.submit(tenantId, () -> {
          List<Replayed> out = new ArrayList<>(page.size());
          for (Document letter : page) {
            out.add(run(tenantId, letter, routes.get(letter.getString("category"))));
          }
          return out;
        }))
        .thenCompose(replayed -> store(tenantId, replayed));
  }

  /** On a function thread: the letter's record through its category's current function and the quality rules. */
  private static Replayed run(String tenantId, Document letter, CompletableFuture<CategoryFunctions.Route> routeFuture) {
    String letterId = letter.getString("_id");
    String category = letter.getString("category");
    Document source = letter.get("source", Document.class);
    String kind = source.getString("kind");
    String sourceId = source.getString("id");
    long position = letter.get("position") instanceof Number n ? n.longValue() : 0;
    boolean message = "message".equals(kind);
    CategoryFunctions.Route route;
    try {
      route = routeFuture.join();
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      return new Replayed(letterId, null, List.of(), List.of(), "category '" + category + "' has no function: " + cause.getMessage());
    }
    try {
      @SuppressWarnings("unchecked")
      Map<String, Object> record = ProtocolJson.JSON.readValue(letter.getString("record"), LinkedHashMap.class);
      FunctionContext context = new FunctionContext(tenantId, category, sourceId, position);
      List<Map<String, Object>> outputs = route.function().apply(record, context);
      List<Document> documents = new ArrayList<>(outputs.size());
      List<DeadLetter> rejected = new ArrayList<>(0);
      for (int i = 0; i < outputs.size(); i++) {
        Map<String, Object> output = outputs.get(i);
        if (output == null) {
          if (message) {
            continue; // the stream pipeline skips a null output
          }
          throw new FunctionException("output " + i + " is null, not an object");
        }
        String id = message ? tenantId + ":" + sourceId + (i == 0 ? "" : "#" + i) : sourceId + ":" + position + ":" + i;
        QualityRuleSet.Verdict verdict = route.quality().evaluate(output, context);
        switch (verdict.decision()) {
          case ACCEPT -> documents.add(Documents.withId(id, output));
          case TAG -> documents.add(Documents.withId(id, verdict.tag(output)));
          default -> rejected.add(new DeadLetter(
              (message ? "message:" + sourceId : sourceId + ":" + position) + ":quality:" + i, kind, sourceId,
              source.getString("name"), position, letter.get("line") instanceof Number l ? l.longValue() : -1,
              DeadLetters.Stage.QUALITY, "quality rules failed: " + verdict.reasons(), Documents.withId(id, output).toJson()));
        }
      }
      return new Replayed(letterId, route.collection(), documents, rejected, null);
    } catch (FunctionException | RuntimeException | java.io.IOException e) {
      return new Replayed(letterId, null, List.of(), List.of(), "function '" + route.functionName() + "' failed again on replay: "
          + (e instanceof FunctionException ? e.getMessage() : e.toString()));
    }
  }

  /** Writes what passed, records quality rejections, removes the letters that made it and updates the others. */
  private CompletionStage<Result> store(String tenantId, List<Replayed> replayed) {
    Map<String, List<Replayed>> byCollection = new LinkedHashMap<>();
    for (Replayed r : replayed) {
      if (r.failure() == null) {
        byCollection.computeIfAbsent(r.collection(), c -> new ArrayList<>()).add(r);
      }
    }
    List<CompletableFuture<List<Replayed>>> writes = new ArrayList<>();
    for (Map.Entry<String, List<Replayed>> entry : byCollection.entrySet()) {
      List<Document> documents = new ArrayList<>();
      List<Replayed> owners = new ArrayList<>();
      for (Replayed r : entry.getValue()) {
        for (Document d : r.documents()) {
          documents.add(d);
          owners.add(r);
        }
      }
      writes.add(writer.write(tenantId, entry.getKey(), documents).thenApply(outcome -> {
        // A record the store refuses keeps its letter, with the store's reason.
        List<Replayed> refused = new ArrayList<>();
        for (RecordWriter.Rejected rejected : outcome.rejected()) {
          Replayed owner = owners.get(rejected.index());
          refused.add(new Replayed(owner.letterId(), null, List.of(), List.of(), "the store refused the record on replay: " + rejected.reason()));
        }
        return refused;
      }).toCompletableFuture());
    }
    return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).thenCompose(written -> {
      Map<String, String> failures = new LinkedHashMap<>();
      replayed.stream().filter(r -> r.failure() != null).forEach(r -> failures.put(r.letterId(), r.failure()));
      writes.forEach(w -> w.join().forEach(r -> failures.putIfAbsent(r.letterId(), r.failure())));
      List<String> done = new ArrayList<>();
      List<DeadLetter> qualityLetters = new ArrayList<>();
      long stored = 0;
      long rejectedByQuality = 0;
      for (Replayed r : replayed) {
        if (!failures.containsKey(r.letterId())) {
          done.add(r.letterId());
          stored += r.documents().size();
          rejectedByQuality += r.rejected().size();
          qualityLetters.addAll(r.rejected());
        }
      }
      long storedRecords = stored;
      long qualityRejections = rejectedByQuality;
      Date now = Date.from(Instant.now());
      List<CompletionStage<?>> updates = new ArrayList<>();
      failures.forEach((id, reason) -> updates.add(coreDms.first(collection(tenantId).updateOne(Filters.eq("_id", id),
          Updates.combine(Updates.set("reason", reason), Updates.set("replayedAt", now), Updates.inc("replays", 1))))));
      // The quality rejections are stored before the letters they came from go, so nothing is lost in between.
      return deadLetters.store(tenantId, qualityLetters)
          .thenCompose(ok -> done.isEmpty()
              ? CompletableFuture.completedFuture(null)
              : coreDms.first(collection(tenantId).deleteMany(Filters.in("_id", done))))
          .thenCompose(deleted -> CompletableFuture.allOf(updates.stream().map(CompletionStage::toCompletableFuture)
              .toArray(CompletableFuture[]::new)))
          .thenApply(all -> new Result(replayed.size(), storedRecords, failures.size(), qualityRejections, 0));
    });
  }
}
