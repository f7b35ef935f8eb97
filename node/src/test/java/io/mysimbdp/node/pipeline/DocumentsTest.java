package io.mysimbdp.node.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.Test;

class DocumentsTest {

  @Test
  void aRecordsOwnIdIsKeptAsSourceIdNotDropped() {
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("_id", "sensor-7");
    record.put("value", 3L);
    Document doc = Documents.withId("message:1", record);
    assertEquals("message:1", doc.get("_id"));
    assertEquals("sensor-7", doc.get("_sourceId"));
    assertEquals(3L, doc.get("value"));
  }

  @Test
  void aRecordWithASourceIdFieldTooKeepsBoth() {
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("_id", Map.of("a", 1));
    record.put("_sourceId", "theirs");
    Document doc = Documents.withId("file:0:0", record);
    assertEquals("theirs", doc.get("_sourceId"));
    assertEquals(new Document("a", 1), doc.get("__sourceId"));
  }

  @Test
  void aRecordWithoutIdGetsNoSourceId() {
    Document doc = Documents.withId("x", Map.of("v", List.of(1, 2)));
    assertEquals(List.of("_id", "v"), List.copyOf(doc.keySet()));
  }
}
