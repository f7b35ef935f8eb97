package io.mysimbdp.node.batch;

import akka.actor.typed.ActorSystem;
import akka.japi.Pair;
import akka.pattern.Patterns;
import akka.stream.KillSwitches;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.StreamConverters;
import io.mysimbdp.functions.quality.QualityRuleSet;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.node.batch.IngestionJobs.JobFile;
import io.mysimbdp.node.batch.IngestionJobs.Progress;
import io.mysimbdp.node.functions.CsvTypes;
import io.mysimbdp.node.batch.parse.ParsedRecord;
import io.mysimbdp.node.batch.parse.RecordReader;
import io.mysimbdp.node.functions.CategoryFunctions;
import io.mysimbdp.node.pipeline.DeadLetters;
import io.mysimbdp.node.pipeline.DeadLetters.DeadLetter;
import io.mysimbdp.node.pipeline.DeadLetters.Stage;
import io.mysimbdp.node.pipeline.Documents;
import io.mysimbdp.node.pipeline.FunctionExecutor;
import io.mysimbdp.node.pipeline.RecordWriter;
import io.mysimbdp.node.report.TenantMeter;
import io.mysimbdp.protocol.DataFormat;
import io.mysimbdp.protocol.RecordCounts;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bson.Document;

/**
 * Ingests one staged file as an Akka Streams pipeline: read the GridFS chunks → parse (on the
 * blocking-IO dispatcher) → in chunks, on the {@link FunctionExecutor} (the tenant's fair share of
 * the function threads, never a stream thread): the category's function → the tenant's quality
 * rules (store, store tagged, or dead-letter at stage QUALITY) → batches → bulk idempotent writes (a few in
 * flight) → checkpoints. Records before the file's checkpoint are skipped, so a resumed file
 * writes nothing twice (and would store nothing twice anyway: ids are file id + record index +
 * output index). Every bad record becomes a dead letter; the rest of the file goes on.
 */
public final class FileIngestion {
  private static final Duration READ_TIMEOUT = Duration.ofMinutes(2);
  /** A chunk for the functions goes when full or after this long (the parser is usually faster). */
  private static final Duration CHUNK_WINDOW = Duration.ofMillis(5);

  /**
   * Tuning, from {@code mysimbdp.batch}. {@code maxRecordBytes}: a longer record is a dead letter.
   * {@code maxBytesInFlight}: the bytes of parsed records held at once by every file ingesting on
   * this node together (the parsers wait for room); a function chunk or a write batch holds at most
   * an eighth of it (or one record).
   */
  public record Settings(int batchSize, Duration batchWindow, int writeParallelism, Duration checkpointInterval, int writeAttempts,
      int maxRecordBytes, long maxBytesInFlight) {
    long groupBytes() {
      return Math.max(1, maxBytesInFlight / 8);
    }
  }

  /** A running file: stop it with {@link #interrupt()}; {@code done} answers the final progress. */
  public static final class Run {
    private final UniqueKillSwitch killSwitch;
    private final AtomicBoolean interrupted;
    private final CompletionStage<Progress> done;

    Run(UniqueKillSwitch killSwitch, AtomicBoolean interrupted, CompletionStage<Progress> done) {
      this.killSwitch = killSwitch;
      this.interrupted = interrupted;
      this.done = done;
    }

    /** Stops reading; what is in flight is written and checkpointed before {@code done} completes. */
    public void interrupt() {
      interrupted.set(true);
      killSwitch.shutdown();
    }

    public CompletionStage<Progress> done() {
      return done;
    }
  }

  /** One parsed record after the function: documents to write and dead letters; {@code held}: its bytes of the budget. */
  private record Transformed(long index, long bytesRead, String collection, List<Document> documents, List<DeadLetter> deadLetters,
      boolean fatal, int held) {}

  /** A parsed record, how far the parser had read when it came out, and the bytes of the budget it holds. */
  private record Parsed(ParsedRecord record, long bytesRead, int held) {}

  /** A written batch: its checkpoint and counts, where it went, and how long its write took. */
  private record BatchResult(long checkpoint, long bytesRead, RecordCounts counts, boolean fatal, String collection, long writeMillis) {}

  private final ActorSystem<?> system;
  private final StagingStore staging;
  private final IngestionJobs jobs;
  private final RecordWriter writer;
  private final DeadLetters deadLetters;
  private final CategoryFunctions categories;
  private final FunctionExecutor functions;
  private final Settings settings;
  private final ByteBudget inFlight;

  public FileIngestion(
      ActorSystem<?> system, StagingStore staging, IngestionJobs jobs, RecordWriter writer, DeadLetters deadLetters,
      CategoryFunctions categories, FunctionExecutor functions, Settings settings) {
    this.system = system;
    this.staging = staging;
    this.jobs = jobs;
    this.writer = writer;
    this.deadLetters = deadLetters;
    this.categories = categories;
    this.functions = functions;
    this.settings = settings;
    this.inFlight = new ByteBudget(settings.maxBytesInFlight());
  }

  /** Starts ingesting {@code file} of job {@code jobId} from {@code from}. */
  public CompletionStage<Run> start(String tenantId, String jobId, JobFile file, Progress from, TenantMeter meter) {
    return categories.resolve(tenantId, file.category()).thenApply(route -> run(tenantId, jobId, file, from, route, meter));
  }

  private Run run(String tenantId, String jobId, JobFile file, Progress from, CategoryFunctions.Route route, TenantMeter meter) {
    DataFormat format = DataFormat.fromId(file.format()).orElseThrow();
    CountingInputStream[] input = new CountingInputStream[1];
    AtomicBoolean interrupted = new AtomicBoolean(false);
    AtomicBoolean ended = new AtomicBoolean(false);
    // The budget this file holds: given back per written batch, the rest when the file's run ends.
    ByteBudget.Held held = inFlight.forRun();
    long groupBytes = settings.groupBytes();
    long perRecordInChunk = Math.max(1, groupBytes / functions.settings().chunk());
    long perDocumentInBatch = Math.max(1, groupBytes / settings.batchSize());

    Pair<UniqueKillSwitch, CompletionStage<Checkpointer>> materialized =
        Source.unfoldResource(
                () -> {
                  InputStream in = staging.read(tenantId, file.id()).runWith(StreamConverters.asInputStream(READ_TIMEOUT), system);
                  input[0] = new CountingInputStream(in);
                  return RecordReader.open(format, input[0], settings.maxRecordBytes());
                },
                reader -> {
                  if (!reader.hasNext()) {
                    return Optional.<Parsed>empty();
                  }
                  ParsedRecord parsed = reader.next();
                  if (parsed.index() < from.checkpoint()) {
                    return Optional.of(new Parsed(parsed, input[0].count(), 0));
                  }
                  // On the parser's blocking-IO thread: wait for room before the record goes on.
                  int taken = held.acquire(reader.lastRecordBytes(), () -> ended.get() || interrupted.get());
                  return Optional.of(new Parsed(parsed, input[0].count(), taken));
                },
                RecordReader::close)
            .filter(parsed -> parsed.record().index() >= from.checkpoint())
            .viaMat(KillSwitches.single(), Keep.right())
            .groupedWeightedWithin(groupBytes, p -> Math.max(p.held(), perRecordInChunk), CHUNK_WINDOW)
            .mapAsync(functions.perTenant() + 1, chunk -> functions.submit(tenantId, () -> transform(tenantId, file, route, chunk)))
            .mapConcat(transformed -> transformed)
            .groupedWeightedWithin(groupBytes, t -> Math.max(t.held(), Math.max(1, t.documents().size()) * perDocumentInBatch),
                settings.batchWindow())
            .mapAsync(settings.writeParallelism(), batch -> write(tenantId, batch)
                .whenComplete((written, failure) -> held.giveBack(batch.stream().mapToInt(Transformed::held).sum())))
            .toMat(
                Sink.foldAsync(
                    new Checkpointer(tenantId, jobId, file.id(), from, meter),
                    (checkpointer, result) -> checkpointer.add(result)),
                Keep.both())
            .run(system);
    materialized.second().whenComplete((c, failure) -> {
      ended.set(true);
      // Records dropped with a failed or interrupted run give their bytes back here.
      held.close();
    });
    CompletionStage<Progress> done =
        materialized.second().thenCompose(checkpointer -> route.quality().flush()
            .exceptionally(e -> null) // counted again at the next periodic flush
            .thenCompose(flushed -> checkpointer.finish(interrupted.get(), file.size())));
    return new Run(materialized.first(), interrupted, done);
  }

  /** On a function thread: one chunk of records through the function and the quality rules. */
  private List<Transformed> transform(String tenantId, JobFile file, CategoryFunctions.Route route, List<Parsed> chunk) {
    List<Transformed> out = new ArrayList<>(chunk.size());
    for (Parsed p : chunk) {
      out.add(transform(tenantId, file, route, p.record(), p.bytesRead(), p.held()));
    }
    return out;
  }

  private Transformed transform(
      String tenantId, JobFile file, CategoryFunctions.Route route, ParsedRecord parsed, long bytesRead, int held) {
    long index = parsed.index();
    if (parsed instanceof ParsedRecord.Bad bad) {
      DeadLetter letter = new DeadLetter(file.id() + ":" + index + ":parse", "file", file.id(), file.name(), index, bad.line(),
          Stage.PARSE, bad.reason(), bad.raw());
      return new Transformed(index, bytesRead, route.collection(), List.of(), List.of(letter), bad.fatal(), held);
    }
    ParsedRecord.Good good = (ParsedRecord.Good) parsed;
    if (DataFormat.CSV.id().equals(file.format()) && !route.csvTypes().isStrings()) {
      try {
        good = new ParsedRecord.Good(good.index(), good.line(), route.csvTypes().apply(good.fields()));
      } catch (CsvTypes.Mismatch mismatch) {
        DeadLetter letter = new DeadLetter(file.id() + ":" + index + ":type", "file", file.id(), file.name(), index, good.line(),
            Stage.TYPE, mismatch.getMessage(), new Document(new LinkedHashMap<>(good.fields())).toJson());
        return new Transformed(index, bytesRead, route.collection(), List.of(), List.of(letter), false, held);
      }
    }
    try {
      FunctionContext context = new FunctionContext(tenantId, file.category(), file.id(), index);
      List<Map<String, Object>> outputs = route.function().apply(good.fields(), context);
      for (int i = 0; i < outputs.size(); i++) {
        if (outputs.get(i) == null) {
          throw new FunctionException("output " + i + " is null, not an object");
        }
      }
      List<Document> documents = new ArrayList<>(outputs.size());
      List<DeadLetter> rejected = List.of();
      for (int i = 0; i < outputs.size(); i++) {
        Map<String, Object> output = outputs.get(i);
        QualityRuleSet.Verdict verdict = route.quality().evaluate(output, context);
        switch (verdict.decision()) {
          case ACCEPT -> documents.add(Documents.withId(file.id() + ":" + index + ":" + i, output));
          case TAG -> documents.add(Documents.withId(file.id() + ":" + index + ":" + i, verdict.tag(output)));
          default -> {
            if (rejected.isEmpty()) {
              rejected = new ArrayList<>(1);
            }
            rejected.add(new DeadLetter(file.id() + ":" + index + ":quality:" + i, "file", file.id(), file.name(), index,
                good.line(), Stage.QUALITY, "quality rules failed: " + verdict.reasons(),
                Documents.withId(file.id() + ":" + index + ":" + i, output).toJson(io.mysimbdp.node.pipeline.SealedBson.RELAXED_JSON)));
          }
        }
      }
      return new Transformed(index, bytesRead, route.collection(), documents, rejected, false, held);
    } catch (FunctionException | RuntimeException e) {
      String reason = "function '" + route.functionName() + "' failed: "
          + (e instanceof FunctionException ? e.getMessage() : e.toString());
      // Kept whole (bounded by DeadLetters), with its category, to be replayed once the function is fixed.
      DeadLetter letter = new DeadLetter(file.id() + ":" + index + ":function", "file", file.id(), file.name(), index,
          good.line(), Stage.FUNCTION, reason, new Document(new LinkedHashMap<>(good.fields())).toJson(), file.category(),
          DeadLetters.recordJson(good.fields()));
      return new Transformed(index, bytesRead, route.collection(), List.of(), List.of(letter), false, held);
    }
  }

  private CompletionStage<BatchResult> write(String tenantId, List<Transformed> batch) {
    Transformed lastRecord = batch.get(batch.size() - 1);
    long startedNanos = System.nanoTime();
    List<Document> documents = new ArrayList<>();
    List<DeadLetter> letters = new ArrayList<>();
    boolean fatal = false;
    for (Transformed t : batch) {
      documents.addAll(t.documents());
      letters.addAll(t.deadLetters());
      fatal |= t.fatal();
    }
    String collection = lastRecord.collection();
    boolean fatalBatch = fatal;
    return withRetries(() -> writer.write(tenantId, collection, documents))
        .thenCompose(outcome -> {
          List<DeadLetter> all = new ArrayList<>(letters);
          for (RecordWriter.Rejected rejected : outcome.rejected()) {
            Document doc = documents.get(rejected.index());
            String id = String.valueOf(doc.get("_id"));
            long index = Long.parseLong(id.split(":")[1]);
            all.add(new DeadLetter(id + ":write", "file", id.split(":")[0], null, index, -1, Stage.WRITE,
                "the store refused the record: " + rejected.reason(), doc.toJson()));
          }
          long failed = all.size();
          long read = batch.size();
          RecordCounts counts = new RecordCounts(read, outcome.stored(), failed);
          return withRetries(() -> deadLetters.store(tenantId, all))
              .thenApply(done -> new BatchResult(lastRecord.index() + 1, lastRecord.bytesRead(), counts, fatalBatch, collection,
                  (System.nanoTime() - startedNanos) / 1_000_000));
        });
  }

  private <T> CompletionStage<T> withRetries(java.util.concurrent.Callable<CompletionStage<T>> attempt) {
    return Patterns.retry(attempt, settings.writeAttempts(), Duration.ofSeconds(1), system.classicSystem().scheduler(), system.executionContext());
  }

  /** Folds batch results into progress, saving a checkpoint at most every checkpoint interval. */
  private final class Checkpointer {
    private final String tenantId;
    private final String jobId;
    private final String fileId;
    private Progress progress;
    private boolean fatal;
    private long lastSaved = System.nanoTime();
    private final TenantMeter meter;

    Checkpointer(String tenantId, String jobId, String fileId, Progress from, TenantMeter meter) {
      this.meter = meter;
      this.tenantId = tenantId;
      this.jobId = jobId;
      this.fileId = fileId;
      this.progress = new Progress(StagedFileViews.INGESTING, from.checkpoint(), from.records(), from.bytes(), null);
    }

    CompletionStage<Checkpointer> add(BatchResult result) {
      RecordCounts counts = result.counts();
      meter.recordIn(TenantMeter.Source.BATCH, counts.read(), Math.max(0, result.bytesRead() - progress.bytes()));
      meter.recordStored(result.collection(), counts.written());
      meter.recordErrors(counts.failed());
      meter.recordLatency(result.writeMillis(), counts.written());
      progress = new Progress(StagedFileViews.INGESTING, result.checkpoint(), progress.records().plus(result.counts()),
          Math.max(progress.bytes(), result.bytesRead()), null);
      fatal |= result.fatal();
      if (System.nanoTime() - lastSaved < settings.checkpointInterval().toNanos()) {
        return CompletableFuture.completedFuture(this);
      }
      lastSaved = System.nanoTime();
      return jobs.saveProgress(tenantId, jobId, fileId, progress).thenApply(saved -> this);
    }

    CompletionStage<Progress> finish(boolean interrupted, long fileSize) {
      Progress end = interrupted
          ? progress
          : new Progress(fatal ? StagedFileViews.FAILED : StagedFileViews.INGESTED, progress.checkpoint(), progress.records(),
              fileSize, fatal ? "the file could not be read to its end; see the tenant's dead letters" : null);
      return jobs.saveProgress(tenantId, jobId, fileId, end).thenApply(saved -> end);
    }
  }

  /** Counts the bytes the parser has consumed, for progress reports. */
  private static final class CountingInputStream extends FilterInputStream {
    private volatile long count;

    CountingInputStream(InputStream in) {
      super(in);
    }

    long count() {
      return count;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
