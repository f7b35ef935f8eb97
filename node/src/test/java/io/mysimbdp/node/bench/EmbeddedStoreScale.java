package io.mysimbdp.node.bench;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import io.mysimbdp.node.embedded.EmbeddedMongo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.bson.Document;

/**
 * What one write to the embedded store costs as the tenants grow (issue #12): for each N given,
 * and each number of store files (env {@code BENCH_STORE_FILES}, default "1 16"), a fresh embedded
 * store with N tenant databases of two collections each, then 2,000 single-document inserts spread
 * over them through the official driver, three times; prints the milliseconds per insert. The store
 * commits after every write, and an H2 MVStore commit visits every open map of its file ({@code
 * MVStore.collectChangedMapRoots}), so the cost grows with the collections per file.
 *
 * <p>Run: {@code scripts/bench-embedded-store.sh [N ...]} (default 500 2000 8000).
 */
public final class EmbeddedStoreScale {
  private static final int INSERTS = 2_000;

  public static void main(String[] args) throws Exception {
    String[] sizes = args.length > 0 ? args : new String[] {"500", "2000", "8000"};
    String[] fileCounts = System.getenv().getOrDefault("BENCH_STORE_FILES", "1 16").trim().split("\\s+");
    System.out.println("| tenants | store files | set-up s | ms per insert (3 runs) |");
    System.out.println("|---|---|---|---|");
    for (String size : sizes) {
      for (String fileCount : fileCounts) {
        measure(Integer.parseInt(size), Integer.parseInt(fileCount));
      }
    }
  }

  private static void measure(int n, int files) throws Exception {
    Path dir = Files.createTempDirectory("mysimbdp-store-scale");
    try (EmbeddedMongo store = EmbeddedMongo.start(dir, 0, files, EmbeddedMongo.DEFAULT_CACHE_MB);
        MongoClient client = MongoClients.create(store.connectionString())) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        MongoDatabase db = client.getDatabase("tenant_t" + i);
        db.getCollection("records").insertOne(new Document("_id", "first"));
        db.getCollection("dead_letters").insertOne(new Document("_id", "first"));
      }
      double setUp = (System.nanoTime() - t0) / 1e9;
      StringBuilder runs = new StringBuilder();
      for (int run = 0; run < 3; run++) {
        t0 = System.nanoTime();
        for (int k = 0; k < INSERTS; k++) {
          client.getDatabase("tenant_t" + (k % n)).getCollection("records").insertOne(new Document("v", k));
        }
        runs.append(run == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.2f", (System.nanoTime() - t0) / 1e6 / INSERTS));
      }
      System.out.printf(Locale.ROOT, "| %,d | %d | %.1f | %s |%n", n, files, setUp, runs);
    }
  }
}
