package io.mysimbdp.node.coredms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.mongodb.WriteConcern;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Every write (and so every stream ack) waits for a majority and the journal unless configured otherwise. */
class CoreDmsWriteConcernTest {

  private static Config mongodb(String overrides) {
    return ConfigFactory.parseString(overrides)
        .withFallback(ConfigFactory.parseResources("ingestion.conf"))
        .resolve()
        .getConfig("mysimbdp.mongodb");
  }

  @Test
  void theDefaultIsMajorityAndJournaled() {
    WriteConcern wc = CoreDms.writeConcern(mongodb(""));
    assertEquals("majority", wc.getWString());
    assertEquals(Boolean.TRUE, wc.getJournal());
    assertEquals(10_000, wc.getWTimeout(TimeUnit.MILLISECONDS).intValue());
  }

  @Test
  void aNumberOfMembersAndTheJournalAreConfigurable() {
    WriteConcern wc = CoreDms.writeConcern(mongodb("mysimbdp.mongodb { write-concern = \"2\", journal = false, write-timeout = 3s }"));
    assertEquals(2, wc.getW());
    assertEquals(Boolean.FALSE, wc.getJournal());
    assertEquals(3_000, wc.getWTimeout(TimeUnit.MILLISECONDS).intValue());
  }

  @Test
  void unacknowledgedWritesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> CoreDms.writeConcern(mongodb("mysimbdp.mongodb.write-concern = \"0\"")));
  }
}
