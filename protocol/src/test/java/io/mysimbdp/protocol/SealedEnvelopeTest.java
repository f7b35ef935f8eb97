package io.mysimbdp.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.protocol.SealedEnvelope.MalformedException;
import io.mysimbdp.protocol.SealedEnvelope.Mode;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SealedEnvelopeTest {
  private static final byte[] BODY = new byte[28];

  @Test
  void theThreeFormsCarryTheSameBytes() {
    SealedEnvelope e = SealedEnvelope.of(Mode.RANDOMIZED, "key-1", BODY);
    assertEquals(1, e.version());
    assertEquals(Mode.RANDOMIZED, e.mode());
    assertEquals("key-1", e.keyId());
    assertArrayEquals(new byte[] {1, 1, 5, 'k', 'e', 'y', '-', '1'}, e.header());
    assertArrayEquals(BODY, e.body());
    assertTrue(e.text().startsWith("$sealed:"));
    assertFalse(e.base64().contains("=") || e.base64().contains("+") || e.base64().contains("/"));
    assertEquals(e, SealedEnvelope.parseText(e.text()));
    assertEquals(e, SealedEnvelope.parseJson(e.json()));
    assertEquals(e, SealedEnvelope.parse(e.bytes()));
    assertTrue(e.toString().contains("key-1") && !e.toString().contains(e.base64()));
  }

  @Test
  void malformedValuesAreNamedNotGuessed() {
    byte[] ok = SealedEnvelope.of(Mode.DETERMINISTIC, "k", new byte[16]).bytes();
    byte[] version = ok.clone();
    version[0] = 9;
    assertTrue(assertThrows(MalformedException.class, () -> SealedEnvelope.parse(version)).getMessage().contains("version 9"));
    byte[] mode = ok.clone();
    mode[1] = 7;
    assertTrue(assertThrows(MalformedException.class, () -> SealedEnvelope.parse(mode)).getMessage().contains("mode 7"));
    byte[] shortBody = java.util.Arrays.copyOf(ok, ok.length - 1);
    assertThrows(MalformedException.class, () -> SealedEnvelope.parse(shortBody));
    assertThrows(MalformedException.class, () -> SealedEnvelope.parseText("$sealed:not base64!"));
    assertThrows(MalformedException.class, () -> SealedEnvelope.parseText("sealed:AAAA"));
    assertThrows(MalformedException.class, () -> SealedEnvelope.parseJson(Map.of("$sealed", 12)));
    assertThrows(MalformedException.class, () -> SealedEnvelope.parseJson(Map.of("$sealed", "AAAA", "x", 1)));
    assertThrows(IllegalArgumentException.class, () -> SealedEnvelope.header(Mode.RANDOMIZED, "bad id"));
    assertThrows(IllegalArgumentException.class, () -> SealedEnvelope.header(Mode.RANDOMIZED, "k".repeat(65)));
  }
}
