package io.mysimbdp.node.tenant;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Tenant API keys: 256 random bits, shown to the tenant once, stored only as a SHA-256 hash. A
 * plain hash suffices because the key has full entropy: there is no dictionary to attack.
 */
public final class ApiKeys {
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Marks a string as a mysimbdp key, so a leaked one is recognisable in logs and scanners. */
  public static final String PREFIX = "msk_";

  private ApiKeys() {}

  public static String generate() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  public static String hash(String key) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** Compares secrets in time independent of where they differ. */
  public static boolean constantTimeEquals(String a, String b) {
    return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }
}
