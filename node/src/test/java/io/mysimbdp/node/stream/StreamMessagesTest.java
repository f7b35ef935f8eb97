package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import io.mysimbdp.protocol.ProtocolJson;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The data instance a function gets is what Jackson's own conversion to a map gives. */
class StreamMessagesTest {

  @Test
  void aRecordIsJacksonsOwnMapOfTheData() throws Exception {
    String json = "{\"i\":1,\"neg\":-7,\"l\":9007199254740993,\"big\":123456789012345678901234567890,\"d\":21.5,\"e\":1e-7,"
        + "\"s\":\"t\\u00e9xt\",\"t\":true,\"f\":false,\"n\":null,\"a\":[1,\"x\",null,[2.5,{\"k\":[]}],{}],"
        + "\"o\":{\"nested\":{\"deep\":[true]},\"empty\":{}},\"_id\":\"kept\",\"dup\":1}";
    JsonNode node = ProtocolJson.JSON.readTree(json);
    Map<String, Object> expected = ProtocolJson.JSON.convertValue(node, new TypeReference<Map<String, Object>>() {});
    Map<String, Object> actual = StreamMessages.toRecord(node);
    assertEquals(expected, actual);
    // the same Java types, not only equal values (Integer vs Long vs BigInteger, Double)
    assertEquals(expected.toString(), actual.toString());
    for (String k : expected.keySet()) {
      Object e = expected.get(k);
      Object a = actual.get(k);
      assertEquals(e == null ? null : e.getClass(), a == null ? null : a.getClass(), k);
    }
    assertEquals(java.util.List.copyOf(expected.keySet()), java.util.List.copyOf(actual.keySet()));
  }
}
