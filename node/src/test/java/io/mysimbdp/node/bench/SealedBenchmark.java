package io.mysimbdp.node.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.mysimbdp.cli.PlatformClient;
import io.mysimbdp.cli.seal.RecordSealer;
import io.mysimbdp.cli.seal.SealSpec;
import io.mysimbdp.cli.seal.SealedFiles;
import io.mysimbdp.cli.seal.Sealer;
import io.mysimbdp.cli.seal.SealingKey;
import io.mysimbdp.node.testing.TestNode;
import io.mysimbdp.protocol.DataFormat;
import io.mysimbdp.protocol.SealedEnvelope.Mode;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * What sealing costs (issue #15): on the client, values and records sealed per second in each mode
 * (and the file pass without sealing, for the parse/write share); on the platform, the ingestion
 * rate of a file with two sealed columns against the same file unsealed, through the identity
 * function into the embedded store.
 *
 * <p>Run: {@code scripts/bench-sealing.sh [records (default 200000)]}. Prints one summary block.
 */
public final class SealedBenchmark {
  static {
    io.mysimbdp.node.CommonPoolParallelism.ensure();
  }

  private static final String COLUMNS = "@id,sample.samplingPoint.label";

  public static void main(String[] args) throws Exception {
    long records = args.length > 0 ? Long.parseLong(args[0]) : 200_000;
    Path source = Path.of(args.length > 1 ? args[1] : "../shared/data/water-quality-10k.csv");
    if (!Files.exists(source)) {
      source = Path.of("../../shared/data/water-quality-10k.csv");
    }
    Path work = Files.createTempDirectory("mysimbdp-bench-sealing");
    try {
      List<String[]> rows = BatchBenchmark.readRows(source);
      String[] header = rows.remove(0);
      Path plain = work.resolve("plain.csv");
      BatchBenchmark.writeRepeated(plain, header, rows, records);
      SealingKey key = SealingKey.generate("bench");
      Sealer sealer = Sealer.of(key);

      // Single values: the primitive plus the envelope and base64 text form.
      String value = rows.get(0)[0];
      System.out.printf(Locale.ROOT, "input: %,d records, %,d bytes; sealed columns %s%n", records, Files.size(plain), COLUMNS);
      double gcmValues = valuesPerSecond(sealer, value, Mode.RANDOMIZED);
      double sivValues = valuesPerSecond(sealer, value, Mode.DETERMINISTIC);

      // Whole files: parse, seal two columns, write.
      double copyRate = fileRate(plain, work.resolve("copy.csv"), null, records);
      double gcmRate = fileRate(plain, work.resolve("gcm.csv"), new RecordSealer(sealer, SealSpec.parse(COLUMNS)), records);
      Path sealed = work.resolve("sealed.csv");
      double mixedRate = fileRate(plain, sealed, new RecordSealer(sealer, SealSpec.parse("@id,sample.samplingPoint.label:det")), records);
      double sivRate = fileRate(plain, work.resolve("siv.csv"), new RecordSealer(sealer, SealSpec.parse("@id:det,sample.samplingPoint.label:det")), records);

      double plainIngest;
      double sealedIngest;
      try (TestNode node = TestNode.start(work.resolve("node"))) {
        String apiKey = node.api.createTenant("bench");
        node.api.constraints("bench", "{\"maxFileSizeMegabytes\":16384}");
        PlatformClient client = new PlatformClient(URI.create(node.api.baseUrl), "bench", apiKey);
        ingest(node, client, apiKey, plain, "warm-up.csv", records); // JIT and store warm-up, not counted
        // Alternated, twice each, so a change in the shared machine's load shows as spread.
        double[] p = new double[2];
        double[] s = new double[2];
        for (int round = 0; round < 2; round++) {
          p[round] = ingest(node, client, apiKey, plain, "plain-" + round + ".csv", records);
          s[round] = ingest(node, client, apiKey, sealed, "sealed-" + round + ".csv", records);
        }
        plainIngest = (p[0] + p[1]) / 2;
        sealedIngest = (s[0] + s[1]) / 2;
        System.out.printf(Locale.ROOT, "ingestion runs (records/s): plain %,.0f / %,.0f, sealed %,.0f / %,.0f%n", p[0], p[1], s[0], s[1]);
      }
      System.out.println();
      System.out.println("== sealing benchmark ==");
      System.out.printf(Locale.ROOT, "records                          %,d (%d sealed columns)%n", records, 2);
      System.out.printf(Locale.ROOT, "machine                          %d cores, load average %s%n",
          Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/loadavg")).trim());
      System.out.printf(Locale.ROOT, "client: one value, randomized    %,.0f values/s (AES-256-GCM, %d-char value)%n", gcmValues, value.length());
      System.out.printf(Locale.ROOT, "client: one value, deterministic %,.0f values/s (AES-SIV)%n", sivValues);
      System.out.printf(Locale.ROOT, "client: CSV pass, nothing sealed %,.0f records/s%n", copyRate);
      System.out.printf(Locale.ROOT, "client: CSV, 2 randomized        %,.0f records/s%n", gcmRate);
      System.out.printf(Locale.ROOT, "client: CSV, 1 rand + 1 det      %,.0f records/s%n", mixedRate);
      System.out.printf(Locale.ROOT, "client: CSV, 2 deterministic     %,.0f records/s%n", sivRate);
      System.out.printf(Locale.ROOT, "sizes: plain %,d bytes, sealed (1 rand + 1 det) %,d bytes%n", Files.size(plain), Files.size(sealed));
      System.out.printf(Locale.ROOT, "platform ingestion, plain        %,.0f records/s%n", plainIngest);
      System.out.printf(Locale.ROOT, "platform ingestion, sealed       %,.0f records/s (ratio %.2f)%n", sealedIngest, sealedIngest / plainIngest);
    } finally {
      try (var files = Files.walk(work)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  private static double valuesPerSecond(Sealer sealer, String value, Mode mode) {
    int n = 400_000;
    for (int i = 0; i < n / 4; i++) {
      sealer.sealValue(value, mode); // warm-up
    }
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      sealer.sealValue(value, mode);
    }
    return n / ((System.nanoTime() - start) / 1e9);
  }

  /** Records per second sealing {@code in} into {@code out}; {@code sealer} null: parse and write only. */
  private static double fileRate(Path in, Path out, RecordSealer sealer, long records) throws Exception {
    long start = System.nanoTime();
    SealedFiles.seal(in, out, DataFormat.CSV, sealer);
    return records / ((System.nanoTime() - start) / 1e9);
  }

  private static double ingest(TestNode node, PlatformClient client, String apiKey, Path file, String name, long records) throws Exception {
    PlatformClient.TusResult upload = client.tusUpload(file, name, "bench", "text/csv", 64L << 20, null);
    JsonNode job = node.api.ingestAndWait("bench", apiKey, List.of(upload.fileId()), Duration.ofHours(1));
    long written = job.path("records").path("written").asLong();
    if (!job.path("state").asText().equals("succeeded") || written != records) {
      throw new IllegalStateException("the job did not store every record: " + job);
    }
    return written / (job.path("elapsedMillis").asLong() / 1000.0);
  }
}
