package io.mysimbdp.node.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import akka.actor.Address;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.external.javadsl.ExternalShardAllocationClient;
import akka.cluster.sharding.external.ExternalShardAllocation;
import akka.cluster.typed.Cluster;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes in one cluster sharing one store and broker: each tenant's ingestor runs on exactly one
 * node, whichever node is asked, and moves when its shard location is set.
 */
class TenantShardingTest {
  @TempDir static Path dataDir1;
  @TempDir static Path dataDir2;
  static TestNode node1;
  static TestNode node2;

  @BeforeAll
  static void startTwoNodes() throws Exception {
    node1 = TestNode.start(dataDir1);
    Address seed = Cluster.get(node1.testKit.system()).selfMember().address();
    node2 =
        TestNode.start(
            dataDir2,
            ConfigFactory.parseString(
                "mysimbdp.cluster.join = seed-nodes\n"
                    + "akka.cluster.seed-nodes = [\"" + seed + "\"]\n"
                    + "mysimbdp.mongodb.uri = \"" + node1.embedded.mongo().orElseThrow().connectionString() + "\"\n"
                    + "mysimbdp.amqp.uri = \"" + node1.embedded.broker().orElseThrow().uri() + "\"\n"));
    node1.testKit.createTestProbe().awaitAssert(
        Duration.ofSeconds(30),
        () -> {
          assertEquals(2, Cluster.get(node1.testKit.system()).state().members().size());
          Cluster.get(node1.testKit.system()).state().getMembers()
              .forEach(m -> assertEquals(MemberStatus.up(), m.status()));
          return null;
        });
  }

  @AfterAll
  static void stop() {
    // One after the other: two systems in one JVM stopping at once can time out.
    node2.close();
    node1.close();
  }

  @Test
  void aTenantRunsOnOneNodeWhicheverNodeIsAsked() {
    String key = node1.api.createTenant("roaming");
    String node2Address = Cluster.get(node2.testKit.system()).selfMember().address().toString();

    // Unplaced, a tenant starts where it is first needed: here node 2.
    Reply viaNode2 = node2.api.get("/v1/tenants/roaming/ingestor", key);
    assertEquals(200, viaNode2.status(), viaNode2::toString);
    assertEquals(node2Address, viaNode2.json().path("node").asText());

    // Node 1 reaches the same entity across the cluster (CBOR over Artery).
    Reply viaNode1 = node1.api.get("/v1/tenants/roaming/ingestor", key);
    assertEquals(200, viaNode1.status(), viaNode1::toString);
    assertEquals(node2Address, viaNode1.json().path("node").asText());
    assertEquals(viaNode2.json().path("startedAt").asText(), viaNode1.json().path("startedAt").asText());
  }

  @Test
  void settingTheShardLocationMovesTheTenant() throws Exception {
    String key = node1.api.createTenant("mover");
    Address node1Address = Cluster.get(node1.testKit.system()).selfMember().address();
    Address node2Address = Cluster.get(node2.testKit.system()).selfMember().address();
    assertEquals(node2Address.toString(), node2.api.get("/v1/tenants/mover/ingestor", key).json().path("node").asText());

    ExternalShardAllocationClient client =
        ExternalShardAllocation.get(node1.testKit.system()).getClient(TenantIngestor.ENTITY_KEY.name());
    client.setShardLocation("mover", node1Address).toCompletableFuture().get(10, TimeUnit.SECONDS);

    node1.testKit.createTestProbe().awaitAssert(
        Duration.ofSeconds(30),
        Duration.ofMillis(500),
        () -> {
          Reply status = node2.api.get("/v1/tenants/mover/ingestor", key);
          assertEquals(200, status.status(), status::toString);
          assertEquals(node1Address.toString(), status.json().path("node").asText());
          return null;
        });
    assertNotEquals(node1Address, node2Address);
  }
}
