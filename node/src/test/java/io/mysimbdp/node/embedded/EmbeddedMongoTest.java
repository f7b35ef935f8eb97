package io.mysimbdp.node.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import java.nio.file.Path;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded store through the official driver: data survives a restart. */
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
}
