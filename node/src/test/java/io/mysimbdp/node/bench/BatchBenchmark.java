package io.mysimbdp.node.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.InsertManyOptions;
import io.mysimbdp.cli.PlatformClient;
import io.mysimbdp.node.testing.ExampleData;
import io.mysimbdp.node.testing.TestNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bson.Document;

/**
 * Batch throughput against the raw ceiling, in one run on one store:
 *
 * <ol>
 *   <li>the water-quality rows repeated with fresh {@code @id}s up to N records (default
 *       1,000,000) as one CSV file;
 *   <li>platform: upload it over HTTP (tus, like the CLI does for big files) and run an ingestion
 *       job (parse, identity function, bulk idempotent writes, checkpoints) — records/s from the
 *       job's own clock;
 *   <li>ceiling: the MongoDB driver's unordered bulk insert of the same documents (same fields and
 *       id shape, built in memory beforehand) into the same store with the same batch size and
 *       parallelism.
 * </ol>
 *
 * <p>Run: {@code scripts/bench-batch.sh [records]}. Prints one summary block.
 */
public final class BatchBenchmark {
  static {
    io.mysimbdp.node.CommonPoolParallelism.ensure(); // a main that embeds a node: before anything starts the common pool
  }

  private static final int BATCH = 1000;
  private static final int PARALLELISM = 4;

  public static void main(String[] args) throws Exception {
    long records = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
    Path work = Files.createTempDirectory("mysimbdp-bench-batch");
    Path source = args.length > 1 ? Path.of(args[1]) : ExampleData.waterQuality();
    Path csv = work.resolve("water-quality-" + records + ".csv");
    List<String[]> rows = readRows(source);
    String[] header = rows.remove(0);
    writeRepeated(csv, header, rows, records);
    long csvBytes = Files.size(csv);
    System.out.printf(Locale.ROOT, "input: %,d records, %,d bytes (%s repeated with fresh @id)%n", records, csvBytes, source.getFileName());

    try (TestNode node = TestNode.start(work.resolve("node"));
        MongoClient mongo = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString())) {
      String key = node.api.createTenant("bench");
      node.api.constraints("bench", "{\"maxFileSizeMegabytes\":16384}");
      PlatformClient client = new PlatformClient(URI.create(node.api.baseUrl), "bench", key);

      // The ceiling is measured before and after the platform run, so a change in the machine's
      // load during the run shows as a difference between the two instead of skewing the ratio.
      List<Document> documents = documents(header, rows, records, new org.bson.types.ObjectId().toHexString());
      double ceilingBefore = bulkInsert(mongo.getDatabase("tenant_bench").getCollection("ceiling_before"), documents);
      documents = null;

      long uploadStart = System.nanoTime();
      PlatformClient.TusResult upload = client.tusUpload(csv, csv.getFileName().toString(), "water", "text/csv", 64L << 20, null);
      double uploadSeconds = (System.nanoTime() - uploadStart) / 1e9;

      JsonNode job = node.api.ingestAndWait("bench", key, List.of(upload.fileId()), Duration.ofHours(2));
      long written = job.path("records").path("written").asLong();
      double jobSeconds = job.path("elapsedMillis").asLong() / 1000.0;
      long stored = mongo.getDatabase("tenant_bench").getCollection("records").countDocuments();
      if (!job.path("state").asText().equals("succeeded") || stored != records || written != records) {
        throw new IllegalStateException("the job did not store every record: " + job + ", stored " + stored);
      }

      documents = documents(header, rows, records, upload.fileId());
      double ceilingAfter = bulkInsert(mongo.getDatabase("tenant_bench").getCollection("ceiling_after"), documents);
      double ceilingSeconds = (ceilingBefore + ceilingAfter) / 2;

      double platformRate = written / jobSeconds;
      double ceilingRate = records / ceilingSeconds;
      System.out.println();
      System.out.println("== batch ingestion benchmark ==");
      System.out.printf(Locale.ROOT, "records                 %,d (%,.1f MB CSV)%n", records, csvBytes / 1e6);
      System.out.printf(Locale.ROOT, "upload (tus, HTTP)      %.1f s, %.1f MB/s%n", uploadSeconds, csvBytes / 1e6 / uploadSeconds);
      System.out.printf(Locale.ROOT, "platform ingestion      %.1f s, %,.0f records/s%n", jobSeconds, platformRate);
      System.out.printf(Locale.ROOT, "raw ceiling (driver)    %,.0f records/s (before: %.1f s, after: %.1f s)%n",
          ceilingRate, ceilingBefore, ceilingAfter);
      System.out.printf(Locale.ROOT, "ratio platform/ceiling  %.2f%n", platformRate / ceilingRate);
      System.out.printf(Locale.ROOT, "store                   embedded mongo-java-server (H2 file), batch %d, %d writes in flight%n", BATCH, PARALLELISM);
    } finally {
      io.mysimbdp.node.testing.TempDirs.deleteQuietly(work);
    }
  }

  public static List<String[]> readRows(Path source) throws IOException {
    CsvMapper mapper = CsvMapper.builder().enable(CsvParser.Feature.WRAP_AS_ARRAY).build();
    List<String[]> rows = new ArrayList<>();
    try (MappingIterator<String[]> it = mapper.readerFor(String[].class).readValues(source.toFile())) {
      it.forEachRemaining(rows::add);
    }
    return rows;
  }

  public static void writeRepeated(Path target, String[] header, List<String[]> rows, long records) throws IOException {
    CsvMapper mapper = new CsvMapper();
    var writer = mapper.writerFor(String[].class);
    try (BufferedWriter out = Files.newBufferedWriter(target, StandardCharsets.UTF_8)) {
      out.write(writer.writeValueAsString(header));
      for (long i = 0; i < records; i++) {
        String[] row = rows.get((int) (i % rows.size())).clone();
        row[0] = row[0] + "-r" + (i / rows.size());
        out.write(writer.writeValueAsString(row));
      }
    }
  }

  /** The documents the platform stores for the file, built the same way (all values text). */
  static List<Document> documents(String[] header, List<String[]> rows, long records, String fileId) {
    List<Document> documents = new ArrayList<>((int) records);
    for (long i = 0; i < records; i++) {
      String[] row = rows.get((int) (i % rows.size()));
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("_id", fileId + ":" + i + ":0");
      for (int c = 0; c < header.length; c++) {
        fields.put(header[c], c == 0 ? row[c] + "-r" + (i / rows.size()) : row[c]);
      }
      documents.add(new Document(fields));
    }
    return documents;
  }

  static double bulkInsert(MongoCollection<Document> collection, List<Document> documents) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(PARALLELISM);
    InsertManyOptions unordered = new InsertManyOptions().ordered(false);
    long start = System.nanoTime();
    List<Future<?>> running = new ArrayList<>();
    for (int from = 0; from < documents.size(); from += BATCH) {
      List<Document> batch = documents.subList(from, Math.min(documents.size(), from + BATCH));
      running.add(pool.submit(() -> collection.insertMany(batch, unordered)));
    }
    for (Future<?> f : running) {
      f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    if (collection.countDocuments() != documents.size()) {
      throw new IllegalStateException("the ceiling run did not store every document");
    }
    return seconds;
  }

}
