package io.mysimbdp.protocol;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The rules for a tenant id. An id names the tenant's database, queue and exchange, so it is kept
 * to characters every one of those accepts: lower-case letters, digits, '-' and '_', starting with
 * a letter or digit, at most {@value #MAX_LENGTH} characters.
 */
public final class TenantId {
  public static final int MAX_LENGTH = 48;
  private static final Pattern VALID = Pattern.compile("[a-z0-9][a-z0-9_-]{0," + (MAX_LENGTH - 1) + "}");

  private TenantId() {}

  /** Why {@code id} is not a valid tenant id, or empty when it is. */
  public static Optional<String> problem(String id) {
    if (id == null || id.isEmpty()) {
      return Optional.of("tenant id is required");
    }
    if (id.length() > MAX_LENGTH) {
      return Optional.of("tenant id is " + id.length() + " characters long; the limit is " + MAX_LENGTH);
    }
    if (!VALID.matcher(id).matches()) {
      return Optional.of(
          "tenant id may contain only lower-case letters, digits, '-' and '_', and must start with a letter or digit");
    }
    return Optional.empty();
  }

  public static boolean isValid(String id) {
    return problem(id).isEmpty();
  }
}
