package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** How many streams a node takes: a number as configured, or "auto" from its heap. */
class NodeStreamsCapacityTest {
  private static final long MB = 1L << 20;

  private static Config consume(String max) {
    return ConfigFactory.parseString("max-streams-per-node = " + max + "\nheap-per-stream = 128k");
  }

  @Test
  void autoFitsTheStreamsIntoTheHeapLeftAfterTheNodesReserve() {
    // a quarter of the heap, at least 256 MB, stays for the node itself
    assertEquals((1024 - 256) * 1024 / 128, NodeStreams.maxStreams(consume("auto"), 1024 * MB));
    assertEquals((4096 - 1024) * 1024 / 128, NodeStreams.maxStreams(consume("auto"), 4096 * MB));
    assertEquals((512 - 256) * 1024 / 128, NodeStreams.maxStreams(consume("auto"), 512 * MB));
    assertEquals(1, NodeStreams.maxStreams(consume("auto"), 200 * MB), "a heap under the reserve still takes one stream");
  }

  @Test
  void aNumberIsTakenAsItIs() {
    assertEquals(2, NodeStreams.maxStreams(consume("2"), 4096 * MB));
  }
}
