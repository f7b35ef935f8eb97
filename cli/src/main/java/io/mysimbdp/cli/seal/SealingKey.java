package io.mysimbdp.cli.seal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mysimbdp.protocol.SealedEnvelope;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;

/**
 * A tenant's sealing key: a key id (in every envelope, so a reader knows which key opens it) and
 * two independent keys, one per mode: 32 bytes for AES-256-GCM (randomized) and 64 bytes for
 * AES-SIV (deterministic, RFC 5297: two AES-256 keys, one for S2V/CMAC and one for CTR). Never
 * leaves the tenant's machine. The file (JSON, mode 0600):
 *
 * <pre>
 * {"format":"mysimbdp-sealing-key","version":1,"keyId":"k-20261203-1a2b3c4d",
 *  "created":"2026-12-03T08:30:00Z","aesGcmKey":"&lt;base64&gt;","aesSivKey":"&lt;base64&gt;"}
 * </pre>
 */
public final class SealingKey {
  public static final String FORMAT = "mysimbdp-sealing-key";
  static final int GCM_KEY_BYTES = 32;
  static final int SIV_KEY_BYTES = 64;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private final String keyId;
  private final Instant created;
  private final byte[] gcmKey;
  private final byte[] sivKey;

  private SealingKey(String keyId, Instant created, byte[] gcmKey, byte[] sivKey) {
    SealedEnvelope.header(SealedEnvelope.Mode.RANDOMIZED, keyId); // checks the id
    if (gcmKey.length != GCM_KEY_BYTES || sivKey.length != SIV_KEY_BYTES) {
      throw new IllegalArgumentException("a sealing key has a " + GCM_KEY_BYTES + "-byte AES-GCM key and a "
          + SIV_KEY_BYTES + "-byte AES-SIV key");
    }
    this.keyId = keyId;
    this.created = created;
    this.gcmKey = gcmKey.clone();
    this.sivKey = sivKey.clone();
  }

  /** A new random key; {@code keyId} null for a fresh one ({@code k-<date>-<8 hex digits>}). */
  public static SealingKey generate(String keyId) {
    Instant now = Instant.now();
    if (keyId == null) {
      byte[] suffix = new byte[4];
      RANDOM.nextBytes(suffix);
      keyId = "k-" + DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC).format(now) + "-" + HexFormat.of().formatHex(suffix);
    }
    byte[] gcm = new byte[GCM_KEY_BYTES];
    byte[] siv = new byte[SIV_KEY_BYTES];
    RANDOM.nextBytes(gcm);
    RANDOM.nextBytes(siv);
    return new SealingKey(keyId, now, gcm, siv);
  }

  /** Writes a new key file, readable and writable by its owner only; never overwrites one. */
  public void save(Path file) throws IOException {
    ObjectNode json = JSON.createObjectNode()
        .put("format", FORMAT)
        .put("version", 1)
        .put("keyId", keyId)
        .put("created", created.toString())
        .put("aesGcmKey", Base64.getEncoder().encodeToString(gcmKey))
        .put("aesSivKey", Base64.getEncoder().encodeToString(sivKey));
    if (Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(file.toString(), null, "a key file is never overwritten (its data could not be read any more)");
    }
    boolean posix = Files.getFileStore(file.toAbsolutePath().getParent()).supportsFileAttributeView(PosixFileAttributeView.class);
    if (posix) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    }
    try (OutputStream out = Files.newOutputStream(file, posix ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      out.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
      out.write('\n');
    }
  }

  /**
   * Reads a key file. Refuses one that others may read (as ssh does with private keys) and one
   * that is not a sealing key, naming the problem.
   */
  public static SealingKey load(Path file) throws IOException {
    if (Files.getFileStore(file.toAbsolutePath()).supportsFileAttributeView(PosixFileAttributeView.class)) {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
      if (permissions.stream().anyMatch(p -> !OWNER_ONLY.contains(p))) {
        throw new IOException("key file " + file + " is accessible by others (" + PosixFilePermissions.toString(permissions)
            + "): chmod 600 it");
      }
    }
    if (Files.size(file) > 4096) {
      throw new IOException("key file " + file + " is too large to be a sealing key");
    }
    JsonNode json;
    try {
      json = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("key file " + file + " is not JSON: " + e.getMessage(), e);
    }
    if (json == null || !FORMAT.equals(json.path("format").asText()) || json.path("version").asInt() != 1) {
      throw new IOException("key file " + file + " is not a " + FORMAT + " version 1 (make one with mysimbdp keygen)");
    }
    try {
      return new SealingKey(
          json.path("keyId").asText(),
          Instant.parse(json.path("created").asText()),
          Base64.getDecoder().decode(json.path("aesGcmKey").asText()),
          Base64.getDecoder().decode(json.path("aesSivKey").asText()));
    } catch (RuntimeException e) {
      throw new IOException("key file " + file + " is damaged: " + e.getMessage(), e);
    }
  }

  public String keyId() {
    return keyId;
  }

  public Instant created() {
    return created;
  }

  byte[] gcmKey() {
    return gcmKey.clone();
  }

  byte[] sivKey() {
    return sivKey.clone();
  }

  /** Never the key material. */
  @Override
  public String toString() {
    return "SealingKey(" + keyId + ")";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SealingKey other && keyId.equals(other.keyId) && Arrays.equals(gcmKey, other.gcmKey)
        && Arrays.equals(sivKey, other.sivKey);
  }

  @Override
  public int hashCode() {
    return keyId.hashCode();
  }
}
