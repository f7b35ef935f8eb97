package io.mysimbdp.cli.seal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.protocol.DataFormat;
import io.mysimbdp.protocol.SealedEnvelope;
import io.mysimbdp.protocol.SealedEnvelope.Mode;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SealerTest {
  private static final SealingKey KEY = SealingKey.generate("k1");
  private static final Sealer SEALER = Sealer.of(KEY);

  @Test
  void bothModesOpenToTheOriginalValueAndType() throws Exception {
    for (Mode mode : Mode.values()) {
      for (Object value : List.of("BUCKINGHAM GOLF CLUB", new BigDecimal("7.27"), 12L, true, Map.of("a", List.of(1, "x")), "")) {
        SealedEnvelope sealed = SEALER.sealValue(value, mode);
        assertEquals(mode, sealed.mode());
        assertEquals("k1", sealed.keyId());
        Object opened = SEALER.openValue(SealedEnvelope.parseText(sealed.text()));
        assertEquals(value instanceof Long l ? l.intValue() : value, opened, mode + " " + value);
      }
    }
  }

  @Test
  void deterministicRepeatsRandomizedDoesNot() {
    assertEquals(SEALER.sealValue("AN-011396", Mode.DETERMINISTIC), SEALER.sealValue("AN-011396", Mode.DETERMINISTIC));
    assertNotEquals(SEALER.sealValue("AN-011396", Mode.DETERMINISTIC), SEALER.sealValue("AN-011397", Mode.DETERMINISTIC));
    assertNotEquals(SEALER.sealValue("AN-011396", Mode.RANDOMIZED), SEALER.sealValue("AN-011396", Mode.RANDOMIZED));
    // Another key gives other ciphertexts for the same value.
    assertNotEquals(Sealer.of(SealingKey.generate("k1")).sealValue("x", Mode.DETERMINISTIC), SEALER.sealValue("x", Mode.DETERMINISTIC));
  }

  @Test
  void everyAlteredByteFailsToOpenWithAClearError() {
    for (Mode mode : Mode.values()) {
      byte[] bytes = SEALER.sealValue("secret value", mode).bytes();
      for (int i = 1; i < bytes.length; i++) { // byte 0 is the version: a framing error, tested below
        byte[] altered = bytes.clone();
        altered[i] ^= 0x01;
        int at = i;
        Exception e = assertThrows(Exception.class, () -> SEALER.openValue(SealedEnvelope.parse(altered)), mode + " byte " + at);
        assertTrue(e instanceof UnsealException || e instanceof SealedEnvelope.MalformedException, e.toString());
      }
      byte[] version = bytes.clone();
      version[0] = 2;
      assertThrows(SealedEnvelope.MalformedException.class, () -> SealedEnvelope.parse(version));
    }
  }

  @Test
  void aWrongKeyOrAMissingKeyIdIsNamed() {
    SealedEnvelope sealed = SEALER.sealValue("x", Mode.RANDOMIZED);
    UnsealException sameId = assertThrows(UnsealException.class, () -> Sealer.of(SealingKey.generate("k1")).openValue(sealed));
    assertTrue(sameId.getMessage().contains("altered, or sealed with another key"), sameId.getMessage());
    UnsealException otherId = assertThrows(UnsealException.class, () -> Sealer.of(SealingKey.generate("k2")).openValue(sealed));
    assertTrue(otherId.getMessage().contains("sealed with key k1") && otherId.getMessage().contains("k2"), otherId.getMessage());
  }

  @Test
  void rotationOpensOldAndNewData() throws Exception {
    SealingKey next = SealingKey.generate("k2");
    SealedEnvelope old = SEALER.sealValue("old", Mode.DETERMINISTIC);
    SealedEnvelope fresh = Sealer.of(next).sealValue("new", Mode.RANDOMIZED);
    Sealer both = new Sealer(null, List.of(next, KEY));
    assertEquals("old", both.openValue(old));
    assertEquals("new", both.openValue(fresh));
    assertThrows(IllegalArgumentException.class, () -> new Sealer(null, List.of(KEY, SealingKey.generate("k1"))));
  }

  @Test
  void theKeyFileIsOwnerOnlyNeverOverwrittenAndRefusedWhenOthersMayReadIt(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tenant.key");
    KEY.save(file);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(KEY, SealingKey.load(file));
    assertTrue(Files.readString(file).contains("\"keyId\" : \"k1\""), Files.readString(file));
    assertThrows(FileAlreadyExistsException.class, () -> SealingKey.generate(null).save(file));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    IOException e = assertThrows(IOException.class, () -> SealingKey.load(file));
    assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
    assertTrue(SealingKey.generate(null).keyId().matches("k-\\d{8}-[0-9a-f]{8}"));
  }

  @Test
  void aCsvFileIsSealedColumnByColumnAndEverythingElseIsKept(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("in.csv");
    Files.writeString(in, "id,site,ph,note\r\n1,\"GOLF CLUB, TINGEWICK\",7.27,\"say \"\"hi\"\"\"\r\n2,RIVER,,plain\r\n");
    RecordSealer sealer = new RecordSealer(SEALER, SealSpec.parse("site:det,ph"));
    Path out = dir.resolve("out.csv");
    SealedFiles.Outcome outcome = SealedFiles.seal(in, out, DataFormat.CSV, sealer);
    assertEquals(2, outcome.records());
    assertEquals(Map.of("site", 2L, "ph", 2L), outcome.sealed());
    String sealed = Files.readString(out, StandardCharsets.UTF_8);
    assertFalse(sealed.contains("GOLF") || sealed.contains("7.27") || sealed.contains("RIVER"), sealed);
    assertTrue(sealed.contains("\"say \"\"hi\"\"\""), sealed);
    String[] row1 = sealed.split("\r\n")[1].split(",");
    assertEquals("GOLF CLUB, TINGEWICK", SEALER.openValue(SealedEnvelope.parseText(row1[1])));
    assertEquals("7.27", SEALER.openValue(SealedEnvelope.parseText(row1[2])));

    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> SealedFiles.seal(in, dir.resolve("x.csv"), DataFormat.CSV, new RecordSealer(SEALER, SealSpec.parse("sitee"))));
    assertTrue(missing.getMessage().contains("no column sitee"), missing.getMessage());
  }

  @Test
  void jsonRecordsGetTheJsonFormIncludingNestedPaths(@TempDir Path dir) throws Exception {
    Path in = dir.resolve("in.ndjson");
    Files.writeString(in, "{\"site\":\"A\",\"sample\":{\"ph\":7.27,\"t\":3}}\n{\"other\":1}\n");
    Path out = dir.resolve("out.ndjson");
    RecordSealer sealer = new RecordSealer(SEALER, SealSpec.parse("site:det,sample.ph"));
    SealedFiles.Outcome outcome = SealedFiles.seal(in, out, DataFormat.NDJSON, sealer);
    assertEquals(Map.of("site", 1L, "sample.ph", 1L), outcome.sealed());
    String text = Files.readString(out);
    assertTrue(text.contains("{\"site\":{\"$sealed\":\"") && text.contains("\"sample\":{\"ph\":{\"$sealed\":\"") && text.contains("\"t\":3"), text);
    assertTrue(text.contains("{\"other\":1}"), text);

    Map<String, Object> record = sealer.seal(Map.of("site", "B"));
    @SuppressWarnings("unchecked")
    Map<String, Object> form = (Map<String, Object>) record.get("site");
    assertEquals("B", SEALER.openValue(SealedEnvelope.parseJson(form)));
    assertEquals(record, sealer.seal(record), "a sealed value is not sealed again");
  }

  @Test
  void theSpecGrammar() {
    assertEquals(Map.of("a", Mode.RANDOMIZED, "b", Mode.DETERMINISTIC, "c", Mode.RANDOMIZED), SealSpec.parse("a, b:det ,c:rand").fields());
    assertThrows(IllegalArgumentException.class, () -> SealSpec.parse("a:xyz"));
    assertThrows(IllegalArgumentException.class, () -> SealSpec.parse("a,,b"));
    assertThrows(IllegalArgumentException.class, () -> SealSpec.parse("a,a:det"));
  }

  @Test
  void theEnvelopeLayout() {
    SealedEnvelope sealed = SEALER.seal(new byte[5], Mode.RANDOMIZED);
    byte[] b = sealed.bytes();
    assertArrayEquals(new byte[] {1, 1, 2, 'k', '1'}, java.util.Arrays.copyOf(b, 5));
    assertEquals(5 + 12 + 5 + 16, b.length);
    assertEquals(5 + 16 + 5, SEALER.seal(new byte[5], Mode.DETERMINISTIC).length());
  }
}
