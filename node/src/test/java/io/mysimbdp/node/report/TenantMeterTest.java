package io.mysimbdp.node.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TenantMeterTest {

  @Test
  void aQueueOfMessagesCountsOneRecordEachUntilTheConsumerHasReadOne() {
    TenantMeter meter = new TenantMeter("t");
    assertEquals(12, meter.queuedRecords(12));
    assertEquals(-1, meter.queuedRecords(-1), "an unknown queue length stays unknown");
  }

  @Test
  void aQueueOfBatchedEnvelopesCountsTheRecordsTheyCarry() {
    TenantMeter meter = new TenantMeter("t");
    meter.recordDelivered(5, 1_000); // five envelopes of 200 records
    assertEquals(2_000, meter.queuedRecords(10));
    assertEquals(0, meter.queuedRecords(0));
  }

  @Test
  void theRecordsPerMessageFollowWhatTheTenantSendsLately() {
    TenantMeter meter = new TenantMeter("t");
    meter.recordDelivered(1, 200);
    for (int i = 0; i < 60; i++) {
      meter.recordDelivered(100, 100); // the tenant now publishes one record per message
    }
    assertEquals(100, meter.queuedRecords(100), 1.0);
    meter.recordDelivered(0, 0); // nothing consumed: no change
    assertEquals(100, meter.queuedRecords(100), 1.0);
  }
}
