package io.mysimbdp.node.errors;

import java.util.Map;

/**
 * A request the platform refuses for a reason the caller can act on (bad input, a missing thing, a
 * conflict with the tenant's state, a limit). Services below the HTTP layer throw it (or fail their
 * CompletionStage with it) with a {@link Kind}, a stable snake_case {@code code} and a message
 * naming the problem; the HTTP layer alone decides the status and the error body.
 */
public final class Refusal extends RuntimeException {

  /** What kind of refusal: the HTTP layer maps each to one status. */
  public enum Kind {
    /** The input is malformed or breaks a rule. */
    INVALID,
    /** What was named does not exist (or is not the caller's). */
    NOT_FOUND,
    /** The input is fine but conflicts with the current state (a duplicate, a busy upload, a full quota). */
    CONFLICT,
    /** It existed and is gone for good (an expired upload). */
    GONE,
    /** The input is larger than a limit allows. */
    TOO_LARGE,
    /** The input's media type is not one this operation reads. */
    UNSUPPORTED_MEDIA_TYPE,
    /** The input is well-formed but cannot be processed (an expression that does not compile, an empty file). */
    UNPROCESSABLE,
    /** The caller asks too often: retry later. */
    TOO_MANY_REQUESTS,
    /** The platform cannot take it now (capacity, a dependency down): retry later. */
    UNAVAILABLE
  }

  private final Kind kind;
  private final String code;
  private final Map<String, Object> details;

  public Refusal(Kind kind, String code, String message) {
    this(kind, code, message, Map.of());
  }

  public Refusal(Kind kind, String code, String message, Map<String, Object> details) {
    super(message, null, false, false);
    this.kind = kind;
    this.code = code;
    this.details = details;
  }

  public Kind kind() {
    return kind;
  }

  public String code() {
    return code;
  }

  public Map<String, Object> details() {
    return details;
  }
}
