package io.mysimbdp.node.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.cluster.typed.Cluster;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.report.ReportStore;
import io.mysimbdp.node.testing.TestNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * New tenants created one after another spread over the nodes, each placed once, while the
 * balancer re-reads every location ten times a second: a listing read before a placement was
 * written must not undo the placement (the next tenant would be counted against the wrong node,
 * and the first placed again).
 */
class PlacementTest {
  @TempDir Path dataDir1;
  @TempDir Path dataDir2;

  private static String address(TestNode node) {
    return Cluster.get(node.testKit.system()).selfMember().address().toString();
  }

  /** Re-read the locations ten times a second, so that placements land while a listing is out. */
  static Config busyListing() {
    return ConfigFactory.parseString("mysimbdp.ingestion.wake-interval = 100ms\n");
  }

  @Test
  void tenantsCreatedOneAfterAnotherArePlacedOnceEachAndSpreadEvenly() throws Exception {
    try (TestNode node1 = TestNode.start(dataDir1, busyListing());
        TestNode node2 = TestNode.startJoining(node1, dataDir2, busyListing());
        MongoClient mongo = MongoClients.create(node1.embedded.mongo().orElseThrow().connectionString())) {
      List<String> tenants = new ArrayList<>();
      for (int i = 1; i <= 8; i++) {
        String tenant = "placed-" + i;
        node1.api.createTenant(tenant);
        tenants.add(tenant);
      }
      // The decisions are stored once their locations are set: wait for all of them.
      node1.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(30), () -> {
        Map<String, Integer> perNode = new TreeMap<>();
        for (String tenant : tenants) {
          List<Document> placements = mongo.getDatabase("mysimbdp").getCollection(ReportStore.DECISIONS)
              .find(Filters.and(Filters.eq("tenant", tenant), Filters.eq("kind", "place"))).into(new ArrayList<>());
          assertEquals(1, placements.size(), tenant + " placed once: " + placements);
          perNode.merge(placements.get(0).getString("to"), 1, Integer::sum);
        }
        assertEquals(Map.of(address(node1), 4, address(node2), 4), perNode, "8 new tenants on 2 nodes");
        return null;
      });
    }
  }
}
