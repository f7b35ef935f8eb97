package io.mysimbdp.node.pipeline;

import io.mysimbdp.node.functions.CategoryFunctions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.functions.sealed.SealedValue;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.FunctionRegistry;
import io.mysimbdp.protocol.SealedEnvelope;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.bson.types.Binary;
import org.junit.jupiter.api.Test;

/**
 * Sealed values through what files and stream messages share: the category's route (where wire
 * forms become opaque values), the record-to-BSON step, and the JSON the data route answers.
 */
class SealedRecordsTest {
  private static final SealedEnvelope SEALED = SealedEnvelope.of(SealedEnvelope.Mode.DETERMINISTIC, "k1", new byte[20]);
  private static final FunctionContext CONTEXT = new FunctionContext("t1", "c", "m1", 0);

  @Test
  void aRoutesFunctionSeesSealedValuesWhichAreStoredAsBinaryAndReadBackAsTheJsonForm() throws Exception {
    CategoryFunctions.Route route = new CategoryFunctions(FunctionRegistry.withBuiltins())
        .resolve("t1", "c").toCompletableFuture().get();
    Map<String, Object> message = new LinkedHashMap<>();
    message.put("site", Map.of("$sealed", SEALED.base64()));
    message.put("cell", SEALED.text());
    message.put("n", 1L);
    Map<String, Object> out = route.function().apply(message, CONTEXT).get(0);
    assertEquals(SealedValue.of(SEALED, "site"), out.get("site"));
    assertEquals(SealedValue.of(SEALED, "cell"), out.get("cell"));

    Document doc = Documents.withId("m1:0", out);
    Binary binary = (Binary) doc.get("site");
    assertEquals(SealedEnvelope.BSON_SUBTYPE, binary.getType());
    assertEquals(SEALED, SealedEnvelope.parse(binary.getData()));

    String json = doc.toJson(SealedBson.RELAXED_JSON);
    assertTrue(json.contains("\"site\": {\"$sealed\": \"" + SEALED.base64() + "\"}"), json);
    assertTrue(json.contains("\"n\": 1"), json);
    // As the embedded store gives it back: subtype 0, same bytes.
    assertTrue(new Document("s", new Binary(SEALED.bytes())).toJson(SealedBson.RELAXED_JSON).contains("$sealed"));
    // Other binaries keep the driver's relaxed form.
    String other = new Document("b", new Binary(new byte[] {1, 2, 3})).toJson(SealedBson.RELAXED_JSON);
    assertTrue(other.contains("\"$binary\": {\"base64\": \"AQID\", \"subType\": \"00\"}"), other);
  }

  @Test
  void aMalformedSealedValueFailsTheRecordNamingTheField() throws Exception {
    CategoryFunctions.Route route = new CategoryFunctions(FunctionRegistry.withBuiltins())
        .resolve("t1", "c").toCompletableFuture().get();
    FunctionException e = assertThrows(FunctionException.class,
        () -> route.function().apply(Map.of("secret", "$sealed:AAAA"), CONTEXT));
    assertTrue(e.getMessage().contains("field 'secret'"), e.getMessage());
    assertEquals(List.of(Map.of("plain", "$sealed")), route.function().apply(Map.of("plain", "$sealed"), CONTEXT));
  }
}
