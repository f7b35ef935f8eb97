package io.mysimbdp.node.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bson.Document;
import org.h2.mvstore.type.ObjectDataType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded store through the official driver: data survives a restart, and a kill. */
class EmbeddedMongoTest {

  @Test
  void dataSurvivesARestart(@TempDir Path dir) throws Exception {
    try (EmbeddedMongo mongo = EmbeddedMongo.start(dir, 0);
        MongoClient client = MongoClients.create(mongo.connectionString())) {
      MongoCollection<Document> c = client.getDatabase("tenant_alice").getCollection("records");
      for (int i = 0; i < 100; i++) {
        c.insertOne(new Document("_id", "r" + i).append("value", i));
      }
    }
    try (EmbeddedMongo mongo = EmbeddedMongo.start(dir, 0);
        MongoClient client = MongoClients.create(mongo.connectionString())) {
      MongoCollection<Document> c = client.getDatabase("tenant_alice").getCollection("records");
      assertEquals(100, c.countDocuments());
      assertEquals(42, c.find(Filters.eq("_id", "r42")).first().getInteger("value"));
    }
  }

  /**
   * Databases hashed over several files: each lives in one, reads (with cursors spanning several
   * batches) and listDatabases see them all, a drop drops one, and a restart asking for another
   * number of files keeps the layout the store was created with.
   */
  @Test
  void databasesSpreadOverTheStoresFilesAndStayWhereTheyAre(@TempDir Path dir) throws Exception {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      names.add("tenant_t" + i);
    }
    try (EmbeddedMongo mongo = EmbeddedMongo.start(dir, 0, 4, 8);
        MongoClient client = MongoClients.create(mongo.connectionString())) {
      for (String name : names) {
        List<Document> batch = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
          batch.add(new Document("_id", name + ":" + i).append("n", i));
        }
        client.getDatabase(name).getCollection("records").insertMany(batch);
      }
    }
    try (var files = Files.list(dir)) {
      assertEquals(4, files.filter(f -> f.getFileName().toString().matches("mongo-0[0-3]\\.mv\\.db")).count());
    }
    java.util.Set<Integer> partsUsed = new java.util.HashSet<>();
    names.forEach(name -> partsUsed.add(DatabaseRoutingBackend.partOf(name, 4)));
    assertEquals(true, partsUsed.size() > 1, "12 names all hashed to one file: " + partsUsed);

    try (EmbeddedMongo mongo = EmbeddedMongo.start(dir, 0, 7, 8);
        MongoClient client = MongoClients.create(mongo.connectionString())) {
      for (String name : names) {
        List<Document> all = client.getDatabase(name).getCollection("records").find().batchSize(7).into(new ArrayList<>());
        assertEquals(250, all.size(), name);
        assertEquals(true, all.stream().allMatch(d -> d.getString("_id").startsWith(name + ":")), name);
      }
      List<String> listed = client.listDatabaseNames().into(new ArrayList<>());
      assertEquals(true, listed.containsAll(names), listed.toString());
      client.getDatabase("tenant_t3").drop();
      assertEquals(false, client.listDatabaseNames().into(new ArrayList<>()).contains("tenant_t3"));
      assertEquals(0, client.getDatabase("tenant_t3").getCollection("records").countDocuments());
      assertEquals(250, client.getDatabase("tenant_t4").getCollection("records").countDocuments());
    }
    assertEquals("4", Files.readString(dir.resolve(EmbeddedMongo.LAYOUT_FILE)).trim());
  }

  /** What kill -9 leaves: the file as it is the moment the write was answered, never closed. */
  @Test
  void anAnsweredWriteIsInTheFile(@TempDir Path dir) throws Exception {
    Path copy = dir.resolve("copy");
    try (EmbeddedMongo mongo = EmbeddedMongo.start(dir.resolve("live"), 0);
        MongoClient client = MongoClients.create(mongo.connectionString())) {
      MongoCollection<Document> c = client.getDatabase("tenant_alice").getCollection("records");
      List<Document> batch = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        batch.add(new Document("_id", "r" + i).append("value", i));
      }
      c.insertMany(batch);
      c.insertOne(new Document("_id", "last").append("value", -1));
      Files.createDirectories(copy);
      try (var files = Files.list(dir.resolve("live"))) {
        for (Path file : (Iterable<Path>) files::iterator) {
          Files.copy(file, copy.resolve(file.getFileName()));
        }
      }
    }
    try (EmbeddedMongo mongo = EmbeddedMongo.start(copy, 0);
        MongoClient client = MongoClients.create(mongo.connectionString())) {
      MongoCollection<Document> c = client.getDatabase("tenant_alice").getCollection("records");
      assertEquals(501, c.countDocuments());
      assertEquals(-1, c.find(Filters.eq("_id", "last")).first().getInteger("value"));
    }
  }

  /** Documents of every BSON type read back after a restart exactly as they were before it. */
  @Test
  void everyKindOfValueSurvivesARestart(@TempDir Path dir) throws Exception {
    List<Document> before;
    Document sample =
        new Document("_id", "alice:m-1")
            .append("int", 7).append("long", 1L << 40).append("double", -0.5).append("bool", true).append("null", null)
            .append("text", "h\u00e9llo \ud83d\ude00 \u0000 nul").append("oid", new org.bson.types.ObjectId())
            .append("date", new java.util.Date(1_700_000_000_123L)).append("decimal", org.bson.types.Decimal128.parse("12.345"))
            .append("binary", new org.bson.types.Binary(new byte[] {1, 2, 3})).append("uuid", java.util.UUID.randomUUID())
            .append("array", List.of(1, "two", List.of(3.0), new Document("four", 4)))
            .append("nested", new Document("deeper", new Document("deepest", List.of())));
    org.bson.UuidRepresentation uuids = org.bson.UuidRepresentation.STANDARD;
    try (EmbeddedMongo mongo = EmbeddedMongo.start(dir, 0);
        MongoClient client = MongoClients.create(com.mongodb.MongoClientSettings.builder()
            .applyConnectionString(new com.mongodb.ConnectionString(mongo.connectionString())).uuidRepresentation(uuids).build())) {
      MongoCollection<Document> c = client.getDatabase("tenant_alice").getCollection("records");
      c.insertOne(sample);
      // types written as before (Java serialization): a timestamp, a regular expression
      c.insertOne(new Document("_id", "alice:m-0").append("timestamp", new org.bson.BsonTimestamp(1_700_000_000, 3))
          .append("regex", new org.bson.BsonRegularExpression("^a", "i")));
      List<Document> batch = new ArrayList<>();
      for (int i = 2; i <= 2000; i++) {
        batch.add(new Document("_id", "alice:m-" + i).append("n", i).append("text", "x".repeat(i % 50)));
      }
      c.insertMany(batch);
      before = c.find().into(new ArrayList<>());
    }
    try (EmbeddedMongo mongo = EmbeddedMongo.start(dir, 0);
        MongoClient client = MongoClients.create(com.mongodb.MongoClientSettings.builder()
            .applyConnectionString(new com.mongodb.ConnectionString(mongo.connectionString())).uuidRepresentation(uuids).build())) {
      MongoCollection<Document> c = client.getDatabase("tenant_alice").getCollection("records");
      List<Document> after = c.find().into(new ArrayList<>());
      assertEquals(2001, after.size());
      assertEquals(before.toString(), after.toString());
      assertEquals(sample.toJson(), c.find(Filters.eq("_id", "alice:m-1")).first().toJson());
    }
  }

  /** The BSON value type: documents BSON gives back exactly as BSON, the rest as H2 did; both read. */
  @Test
  void documentValuesRoundTrip() {
    EmbeddedMongo.DocumentValues type = new EmbeddedMongo.DocumentValues();
    de.bwaldvogel.mongo.bson.Document exact = new de.bwaldvogel.mongo.bson.Document("_id", "a:1")
        .append("n", 1).append("l", 2L).append("d", 0.25).append("s", "\ud83d\ude00").append("t", java.time.Instant.ofEpochMilli(5))
        .append("list", new ArrayList<>(List.of(1, "x"))).append("sub", new de.bwaldvogel.mongo.bson.Document("k", null));
    de.bwaldvogel.mongo.bson.Document nanos = new de.bwaldvogel.mongo.bson.Document("_id", "a:2").append("t", java.time.Instant.ofEpochSecond(1, 1));
    de.bwaldvogel.mongo.bson.Document surrogate = new de.bwaldvogel.mongo.bson.Document("_id", "a:3").append("s", "\ud83d");
    de.bwaldvogel.mongo.bson.Document nulName = new de.bwaldvogel.mongo.bson.Document("_id", "a:4").append("a\u0000b", 1);
    de.bwaldvogel.mongo.bson.Document aFloat = new de.bwaldvogel.mongo.bson.Document("_id", "a:5").append("f", 1.5f);
    Object[] values = {exact, nanos, surrogate, nulName, aFloat, "a string", 42L};
    boolean[] asBson = {true, false, false, false, false, false, false};
    for (int i = 0; i < values.length; i++) {
      org.h2.mvstore.WriteBuffer out = new org.h2.mvstore.WriteBuffer();
      type.write(out, values[i]);
      java.nio.ByteBuffer in = out.getBuffer();
      in.flip();
      assertEquals(asBson[i], in.get(0) == EmbeddedMongo.DocumentValues.TAG_BSON_DOCUMENT, String.valueOf(values[i]));
      assertEquals(values[i], type.read(in));
      assertEquals(0, in.remaining());
    }
  }

  /** Keys of one string are written as UTF-8 under their own tag, others as H2 did; both read. */
  @Test
  void keysRoundTrip() {
    Object[] keys = {new KeyValue("alice:m-1"), new KeyValue("h\u00e9 \ud83d\ude00"), new KeyValue(""), new KeyValue("\ud83d"),
        new KeyValue(1.0), new KeyValue("a", "b"), "plain", 7L};
    boolean[] tagged = {true, true, true, false, false, false, false, false};
    for (int i = 0; i < keys.length; i++) {
      org.h2.mvstore.WriteBuffer out = new org.h2.mvstore.WriteBuffer();
      EmbeddedMongo.KeyOrder.INSTANCE.write(out, keys[i]);
      java.nio.ByteBuffer in = out.getBuffer();
      in.flip();
      assertEquals(tagged[i], in.get(0) == EmbeddedMongo.KeyOrder.TAG_STRING_KEY, String.valueOf(keys[i]));
      Object back = EmbeddedMongo.KeyOrder.INSTANCE.read(in);
      assertEquals(keys[i], back);
      assertEquals(0, in.remaining());
      if (back instanceof KeyValue) {
        assertEquals(0, EmbeddedMongo.KeyOrder.INSTANCE.compare(keys[i], back));
      }
    }
  }

  /** The cheaper key comparison orders exactly as H2's own, so files written before still work. */
  @Test
  void keyOrderIsH2sOwn() {
    Random random = new Random(7);
    ObjectDataType h2 = new ObjectDataType();
    List<KeyValue> keys = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      Object value = switch (i % 5) {
        case 0 -> "tenant:m-" + random.nextInt(100_000);
        case 1 -> random.nextInt();
        case 2 -> random.nextLong();
        case 3 -> random.nextDouble();
        default -> new de.bwaldvogel.mongo.bson.Document("k", "v" + random.nextInt(50));
      };
      keys.add(i % 7 == 0 ? new KeyValue(value, "second") : new KeyValue(value));
    }
    for (int round = 0; round < 2; round++) { // the second round compares from the cache
      for (KeyValue a : keys) {
        for (KeyValue b : keys) {
          assertEquals(Integer.signum(h2.compare(a, b)), Integer.signum(EmbeddedMongo.KeyOrder.INSTANCE.compare(a, b)), a + " vs " + b);
        }
      }
    }
  }

  /** Keys of one string are compared without serializing them: the same order, for any string. */
  @Test
  void stringKeyOrderIsH2sOwn() {
    Random random = new Random(11);
    ObjectDataType h2 = new ObjectDataType();
    List<KeyValue> keys = new ArrayList<>();
    String[] fixed = {"", "a", "b", "ab", "a\u0000", "\u0000", "\u007f", "\u0080", "\u07ff", "\u0800", "\uffff", "é", "e\u0301", "tenant:m-9", "tenant:m-10",
        "\ud83d\ude00", "x".repeat(21845), "\u0800".repeat(21845), "\u0800".repeat(21846), "x".repeat(70_000), "\u00e9".repeat(32_768)};
    for (String f : fixed) {
      keys.add(new KeyValue(f));
    }
    char[] alphabet = {'a', 'b', 'z', '0', '\u0000', '\u007f', '\u0080', '\u00e9', '\u07ff', '\u0800', '\u4e2d', '\ud83d', '\ude00', '\uffff'};
    for (int i = 0; i < 200; i++) {
      StringBuilder b = new StringBuilder(i % 3 == 0 ? "tenant:m-" : "");
      int length = random.nextInt(8);
      for (int j = 0; j < length; j++) {
        b.append(alphabet[random.nextInt(alphabet.length)]);
      }
      keys.add(new KeyValue(b.toString()));
    }
    keys.add(new KeyValue("tenant:m-1", "second"));
    keys.add(new KeyValue(1.0));
    for (KeyValue a : keys) {
      for (KeyValue b : keys) {
        assertEquals(Integer.signum(h2.compare(a, b)), Integer.signum(EmbeddedMongo.KeyOrder.INSTANCE.compare(a, b)), a.get(0) + " vs " + b.get(0));
      }
    }
  }

  @Test
  void aStoreWrittenByThePlainH2BackendStillWorks(@TempDir Path dir) throws Exception {
    H2Backend plain = new H2Backend(dir.resolve("mongo.mv.db").toString());
    plain.version(ServerVersion.MONGO_5_0);
    MongoServer server = new MongoServer(plain);
    server.bind("127.0.0.1", 0);
    try (MongoClient client = MongoClients.create("mongodb://127.0.0.1:" + server.getLocalAddress().getPort())) {
      MongoCollection<Document> c = client.getDatabase("tenant_alice").getCollection("records");
      for (int i = 0; i < 1000; i++) {
        c.insertOne(new Document("_id", "alice:m-" + i).append("value", i));
      }
    } finally {
      server.shutdown();
    }
    try (EmbeddedMongo mongo = EmbeddedMongo.start(dir, 0);
        MongoClient client = MongoClients.create(mongo.connectionString())) {
      MongoCollection<Document> c = client.getDatabase("tenant_alice").getCollection("records");
      assertEquals(1000, c.countDocuments());
      for (int i = 0; i < 1000; i += 37) {
        assertEquals(i, c.find(Filters.eq("_id", "alice:m-" + i)).first().getInteger("value"));
      }
      assertThrows(MongoWriteException.class, () -> c.insertOne(new Document("_id", "alice:m-500")));
      c.insertOne(new Document("_id", "alice:m-1000").append("value", 1000));
      assertEquals(1001, c.countDocuments());
    }
  }
}
