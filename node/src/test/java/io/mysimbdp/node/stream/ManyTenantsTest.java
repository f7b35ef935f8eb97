package io.mysimbdp.node.stream;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** Many tenants' streams on the embedded (Qpid) broker. */
class ManyTenantsTest extends ManyTenantsSuite {
  @TempDir static Path dataDir;

  @BeforeAll
  static void startNode() throws Exception {
    startNode(dataDir, ConfigFactory.empty());
  }

  @AfterAll
  static void stop() {
    stopNode();
  }

  @Override
  String directUri(Tenant tenant) {
    return embeddedBrokerUri();
  }
}
