package io.mysimbdp.cli.seal;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.crypto.tink.subtle.AesSiv;
import io.mysimbdp.protocol.SealedEnvelope;
import io.mysimbdp.protocol.SealedEnvelope.Mode;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals values with the tenant's key and opens them with any of the tenant's keys (key rotation:
 * new data under a new key id, old data still opens with the old key). Thread-safe.
 *
 * <p>What is sealed is the value's JSON text ({@code "abc"}, {@code 7.27}, {@code {"a":1}}), so
 * opening gives back its type as well; a CSV cell is a JSON string. The envelope's header (format
 * version, mode, key id) is the associated data: changing any of it makes the value fail to open.
 * The field name is deliberately not bound (functions may rename or move a sealed field); so
 * someone able to write the store could swap two sealed values of the same key between fields or
 * records undetected, never read or forge one (docs/sealing.md).
 *
 * <p>Primitives: AES-256-GCM from the JDK with a fresh 96-bit nonce from {@link SecureRandom} per
 * value; AES-SIV from Google Tink ({@link AesSiv}, RFC 5297).
 */
public final class Sealer {
  private static final int GCM_NONCE_BYTES = 12;
  private static final int GCM_TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();
  /** A Cipher per thread: looking one up per value costs more than sealing a short value. */
  private static final ThreadLocal<Cipher> GCM = ThreadLocal.withInitial(() -> {
    try {
      return Cipher.getInstance("AES/GCM/NoPadding");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JVM lacks AES-GCM: " + e, e);
    }
  });
  /** Plaintext JSON as it was: exact decimals, no float rounding. */
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private record Keys(SealingKey key, SecretKeySpec gcm, AesSiv siv) {}

  private final Keys sealing;
  private final Map<String, Keys> byId = new LinkedHashMap<>();

  /** Seals with {@code sealing} (null: this sealer only opens), opens with it and {@code others}. */
  public Sealer(SealingKey sealing, Collection<SealingKey> others) {
    try {
      Keys first = null;
      if (sealing != null) {
        first = keys(sealing);
        byId.put(sealing.keyId(), first);
      }
      for (SealingKey k : others) {
        Keys existing = byId.get(k.keyId());
        if (existing != null && !existing.key().equals(k)) {
          throw new IllegalArgumentException("two different keys have the id " + k.keyId());
        }
        byId.putIfAbsent(k.keyId(), keys(k));
      }
      this.sealing = first;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JVM lacks AES: " + e, e);
    }
  }

  public static Sealer of(SealingKey key) {
    return new Sealer(key, java.util.List.of());
  }

  private static Keys keys(SealingKey key) throws GeneralSecurityException {
    return new Keys(key, new SecretKeySpec(key.gcmKey(), "AES"), new AesSiv(key.sivKey()));
  }

  /** The key id new values are sealed under. */
  public String keyId() {
    return requireSealing().key().keyId();
  }

  /** Seals a JSON value (String, Number, Boolean, null, Map, List). */
  public SealedEnvelope sealValue(Object value, Mode mode) {
    try {
      return seal(JSON.writeValueAsBytes(value), mode);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a JSON value: " + e.getMessage(), e);
    }
  }

  /** Seals bytes. */
  public SealedEnvelope seal(byte[] plaintext, Mode mode) {
    Keys keys = requireSealing();
    byte[] header = SealedEnvelope.header(mode, keys.key().keyId());
    try {
      byte[] body;
      if (mode == Mode.DETERMINISTIC) {
        body = keys.siv().encryptDeterministically(plaintext, header);
      } else {
        byte[] nonce = new byte[GCM_NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        Cipher cipher = GCM.get();
        cipher.init(Cipher.ENCRYPT_MODE, keys.gcm(), new GCMParameterSpec(GCM_TAG_BITS, nonce));
        cipher.updateAAD(header);
        byte[] sealed = cipher.doFinal(plaintext);
        body = Arrays.copyOf(nonce, GCM_NONCE_BYTES + sealed.length);
        System.arraycopy(sealed, 0, body, GCM_NONCE_BYTES, sealed.length);
      }
      return SealedEnvelope.of(mode, keys.key().keyId(), body);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("sealing failed: " + e, e);
    }
  }

  /** Opens a value sealed with {@link #sealValue}. */
  public Object openValue(SealedEnvelope envelope) throws UnsealException {
    byte[] plaintext = open(envelope);
    try {
      return JSON.readValue(plaintext, Object.class);
    } catch (IOException e) {
      throw new UnsealException("the value opens but is not sealed JSON (sealed by another tool?)");
    }
  }

  /** Opens bytes; fails when no key has its id, or when it was altered or sealed with another key. */
  public byte[] open(SealedEnvelope envelope) throws UnsealException {
    Keys keys = byId.get(envelope.keyId());
    if (keys == null) {
      throw new UnsealException("sealed with key " + envelope.keyId() + "; no key file given has that id (have: "
          + String.join(", ", byId.keySet()) + ")");
    }
    byte[] header = envelope.header();
    byte[] body = envelope.body();
    try {
      if (envelope.mode() == Mode.DETERMINISTIC) {
        return keys.siv().decryptDeterministically(body, header);
      }
      Cipher cipher = GCM.get();
      cipher.init(Cipher.DECRYPT_MODE, keys.gcm(), new GCMParameterSpec(GCM_TAG_BITS, body, 0, GCM_NONCE_BYTES));
      cipher.updateAAD(header);
      return cipher.doFinal(body, GCM_NONCE_BYTES, body.length - GCM_NONCE_BYTES);
    } catch (GeneralSecurityException e) {
      throw new UnsealException("does not open with key " + envelope.keyId()
          + ": the value was altered, or sealed with another key of the same id");
    }
  }

  private Keys requireSealing() {
    if (sealing == null) {
      throw new IllegalStateException("this sealer has no key to seal with");
    }
    return sealing;
  }
}
