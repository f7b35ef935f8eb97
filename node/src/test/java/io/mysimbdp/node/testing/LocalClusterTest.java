package io.mysimbdp.node.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness itself: two node processes form one cluster; one of them slowed by a {@link CpuThief}
 * stays a reachable member; a node killed with SIGKILL and started again rejoins; a third node is
 * added; the admin API of any node sees what another one created.
 */
class LocalClusterTest {

  @Test
  void formsSlowsKillsRestartsAndGrows(@TempDir Path dir) throws Exception {
    // The killed node is downed 5 s after it became unreachable (default 20 s), so it can come back sooner.
    try (LocalCluster cluster = LocalCluster.start(dir, 2, LocalCluster.Broker.EMBEDDED, Map.of("SBR_STABLE_AFTER", "5s"))) {
      assertEquals(201, cluster.admin(1).postJson("/v1/tenants", LocalCluster.ADMIN_TOKEN, "{\"id\":\"harness\"}").status());
      assertEquals(200, cluster.admin(2).get("/v1/tenants/harness", LocalCluster.ADMIN_TOKEN).status());

      // 80% of every 200 ms stopped for 10 s: slow, but never unreachable for the others.
      try (CpuThief thief = CpuThief.start(cluster.node(2).pid())) {
        Instant end = Instant.now().plusSeconds(10);
        while (Instant.now().isBefore(end)) {
          LocalCluster.View seenBy1 = cluster.view(cluster.node(1));
          assertTrue(seenBy1.others().isEmpty() && seenBy1.up().size() == 2, "node 1 sees " + seenBy1);
          Thread.sleep(500);
        }
        assertTrue(thief.cycles() > 0, "the thief stopped the node");
      }

      Instant t0 = Instant.now();
      cluster.kill(2);
      assertEquals(137, cluster.lastExitCode(2), "SIGKILL");
      cluster.start(2);
      cluster.awaitAllUp();
      System.out.printf("node 2 killed, restarted and Up again in %.1f s%n", Duration.between(t0, Instant.now()).toMillis() / 1000.0);

      t0 = Instant.now();
      LocalCluster.Member third = cluster.add();
      assertEquals(3, cluster.size());
      System.out.printf("node 3 added and Up in %.1f s%n", Duration.between(t0, Instant.now()).toMillis() / 1000.0);
      assertEquals(200, new HttpApi(third.apiUrl(), LocalCluster.ADMIN_TOKEN).get("/v1/tenants/harness", LocalCluster.ADMIN_TOKEN).status());
    }
  }
}
