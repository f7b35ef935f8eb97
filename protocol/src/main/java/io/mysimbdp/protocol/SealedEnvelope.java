package io.mysimbdp.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A sealed value as it travels and is stored: a field a tenant encrypted with its own key before
 * sending it, which the platform carries but cannot read. This type only frames the bytes (no
 * cryptography here; sealing and opening are the client's, in {@code cli}). Format version 1
 * (docs/sealing.md):
 *
 * <pre>
 *   byte 0        format version (1)
 *   byte 1        mode: 1 randomized (AES-256-GCM), 2 deterministic (AES-SIV, RFC 5297)
 *   byte 2        n, the key id's length (1..64)
 *   bytes 3..3+n  key id (ASCII letters, digits, '.', '_', '-')
 *   the rest      the primitive's output: GCM: 12-byte nonce, ciphertext, 16-byte tag;
 *                 SIV: 16-byte synthetic IV, ciphertext
 * </pre>
 *
 * The header (bytes 0..3+n) is the associated data of the encryption, so version, mode and key id
 * cannot be changed without the value failing to open. Text forms: {@code $sealed:<base64url>} (a
 * CSV cell), {@code {"$sealed":"<base64url>"}} (JSON); BSON binary subtype {@link #BSON_SUBTYPE}.
 */
public final class SealedEnvelope {
  public static final int VERSION = 1;
  /** The JSON object key of the JSON form. */
  public static final String JSON_KEY = "$sealed";
  /** The prefix of the text form (CSV cells). */
  public static final String TEXT_PREFIX = "$sealed:";
  /** BSON binary subtype: the first user-defined one. */
  public static final byte BSON_SUBTYPE = (byte) 0x80;
  public static final int MAX_KEY_ID_LENGTH = 64;
  /** The largest envelope accepted (a sealed field is a value, not a file). */
  public static final int MAX_BYTES = 1 << 20;

  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1," + MAX_KEY_ID_LENGTH + "}");
  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder BASE64URL_DECODER = Base64.getUrlDecoder();

  /** How a value was sealed. */
  public enum Mode {
    /** AES-256-GCM with a fresh 96-bit nonce: equal values give different ciphertexts. */
    RANDOMIZED(1, 12 + 16),
    /** AES-SIV (RFC 5297): equal values under one key give equal ciphertexts (lookup by value). */
    DETERMINISTIC(2, 16);

    public final int code;
    /** Bytes of the primitive's output beyond the plaintext (nonce, tag or synthetic IV). */
    public final int overhead;

    Mode(int code, int overhead) {
      this.code = code;
      this.overhead = overhead;
    }

    static Optional<Mode> of(int code) {
      for (Mode m : values()) {
        if (m.code == code) {
          return Optional.of(m);
        }
      }
      return Optional.empty();
    }
  }

  /** A value that does not frame as an envelope; the message says why. */
  public static final class MalformedException extends IllegalArgumentException {
    public MalformedException(String message) {
      super(message);
    }
  }

  private final byte[] bytes;
  private final Mode mode;
  private final String keyId;
  private final int headerLength;

  private SealedEnvelope(byte[] bytes, Mode mode, String keyId, int headerLength) {
    this.bytes = bytes;
    this.mode = mode;
    this.keyId = keyId;
    this.headerLength = headerLength;
  }

  /** The header (the associated data to seal with) for a mode and key id. */
  public static byte[] header(Mode mode, String keyId) {
    checkKeyId(keyId);
    byte[] id = keyId.getBytes(StandardCharsets.US_ASCII);
    byte[] header = new byte[3 + id.length];
    header[0] = VERSION;
    header[1] = (byte) mode.code;
    header[2] = (byte) id.length;
    System.arraycopy(id, 0, header, 3, id.length);
    return header;
  }

  /** The envelope of {@code header(mode, keyId)} followed by the primitive's output. */
  public static SealedEnvelope of(Mode mode, String keyId, byte[] sealedBody) {
    byte[] header = header(mode, keyId);
    byte[] all = Arrays.copyOf(header, header.length + sealedBody.length);
    System.arraycopy(sealedBody, 0, all, header.length, sealedBody.length);
    return parse(all);
  }

  /** Frames bytes (BSON binary, decoded text); checks the structure, not the cryptography. */
  public static SealedEnvelope parse(byte[] bytes) {
    if (bytes.length > MAX_BYTES) {
      throw new MalformedException("sealed value of " + bytes.length + " bytes, more than " + MAX_BYTES);
    }
    if (bytes.length < 4) {
      throw new MalformedException("sealed value too short (" + bytes.length + " bytes)");
    }
    if (bytes[0] != VERSION) {
      throw new MalformedException("sealed value of format version " + (bytes[0] & 0xFF) + "; this platform reads version " + VERSION);
    }
    Mode mode = Mode.of(bytes[1]).orElseThrow(() -> new MalformedException("sealed value of unknown mode " + (bytes[1] & 0xFF)));
    int idLength = bytes[2] & 0xFF;
    if (idLength < 1 || idLength > MAX_KEY_ID_LENGTH || bytes.length < 3 + idLength + mode.overhead) {
      throw new MalformedException("sealed value too short for its header (" + bytes.length + " bytes)");
    }
    String keyId = new String(bytes, 3, idLength, StandardCharsets.US_ASCII);
    if (!KEY_ID.matcher(keyId).matches()) {
      throw new MalformedException("sealed value with an invalid key id");
    }
    return new SealedEnvelope(bytes.clone(), mode, keyId, 3 + idLength);
  }

  /** Parses the base64url part of the text and JSON forms. */
  public static SealedEnvelope parseBase64(String base64url) {
    if (base64url.length() > MAX_BYTES / 3 * 4 + 4) {
      throw new MalformedException("sealed value longer than " + MAX_BYTES + " bytes");
    }
    try {
      return parse(BASE64URL_DECODER.decode(base64url));
    } catch (IllegalArgumentException e) {
      throw e instanceof MalformedException m ? m : new MalformedException("sealed value is not base64url: " + e.getMessage());
    }
  }

  /** Whether a text is in the text form ({@code $sealed:...}); it may still be malformed. */
  public static boolean isText(String text) {
    return text.startsWith(TEXT_PREFIX);
  }

  /** Parses the text form ({@code $sealed:<base64url>}). */
  public static SealedEnvelope parseText(String text) {
    if (!isText(text)) {
      throw new MalformedException("not a sealed value (expected the prefix " + TEXT_PREFIX + ")");
    }
    return parseBase64(text.substring(TEXT_PREFIX.length()));
  }

  /** Whether a JSON object (as a map) is the JSON form: exactly one key, {@code $sealed}. */
  public static boolean isJson(Map<?, ?> object) {
    return object.size() == 1 && object.containsKey(JSON_KEY);
  }

  /** Parses the JSON form. */
  public static SealedEnvelope parseJson(Map<?, ?> object) {
    if (!isJson(object) || !(object.get(JSON_KEY) instanceof String text)) {
      throw new MalformedException("a sealed value is {\"" + JSON_KEY + "\": \"<base64url>\"}");
    }
    return parseBase64(text);
  }

  public Mode mode() {
    return mode;
  }

  public String keyId() {
    return keyId;
  }

  public int version() {
    return bytes[0];
  }

  /** The associated data the body was sealed with. */
  public byte[] header() {
    return Arrays.copyOf(bytes, headerLength);
  }

  /** The primitive's output (nonce, ciphertext and tag, or synthetic IV and ciphertext). */
  public byte[] body() {
    return Arrays.copyOfRange(bytes, headerLength, bytes.length);
  }

  public byte[] bytes() {
    return bytes.clone();
  }

  public int length() {
    return bytes.length;
  }

  public String base64() {
    return BASE64URL.encodeToString(bytes);
  }

  /** The text form, for CSV cells. */
  public String text() {
    return TEXT_PREFIX + base64();
  }

  /** The JSON form as a map ({@code {"$sealed": "<base64url>"}}). */
  public Map<String, Object> json() {
    return Map.of(JSON_KEY, base64());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SealedEnvelope other && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /** Never the bytes: the mode, key id and size (what anyone holding the envelope sees anyway). */
  @Override
  public String toString() {
    return "sealed(" + mode.name().toLowerCase(java.util.Locale.ROOT) + ", key " + keyId + ", " + bytes.length + " bytes)";
  }

  private static void checkKeyId(String keyId) {
    if (keyId == null || !KEY_ID.matcher(keyId).matches()) {
      throw new IllegalArgumentException("a key id is 1 to " + MAX_KEY_ID_LENGTH + " letters, digits, '.', '_' or '-'");
    }
  }
}
