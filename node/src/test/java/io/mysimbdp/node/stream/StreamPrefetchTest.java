package io.mysimbdp.node.stream;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The prefetch checks on the embedded (Qpid) broker. */
class StreamPrefetchTest extends StreamPrefetchSuite {
  @TempDir static Path dataDir;

  @BeforeAll
  static void startNode() throws Exception {
    startNode(dataDir, ConfigFactory.empty());
  }

  @Override
  String directUri(Tenant tenant) {
    return embeddedBrokerUri();
  }
}
