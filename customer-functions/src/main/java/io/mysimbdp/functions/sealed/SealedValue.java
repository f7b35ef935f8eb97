package io.mysimbdp.functions.sealed;

import com.fasterxml.jackson.annotation.JsonValue;
import io.mysimbdp.protocol.SealedEnvelope;
import java.util.Map;

/**
 * A field the tenant sealed with its own key, as functions and quality rules see it: an opaque
 * value, never a string. Functions may pass it through, copy it, move it to another field or drop
 * it; reading or comparing it (string operations, arithmetic, comparisons, predicates) fails with
 * {@link Misuse}, which sends the record to the dead letters naming the field. Immutable.
 *
 * <p>{@link #equals} compares envelopes (two sealed values are equal when their bytes are: the same
 * deterministic-mode plaintext under the same key), so built-ins that de-duplicate or compare whole
 * records keep working; comparing a sealed value with anything else is false in Java and an error
 * in the sandboxed languages.
 */
public final class SealedValue {
  private final SealedEnvelope envelope;
  private final String field;

  private SealedValue(SealedEnvelope envelope, String field) {
    this.envelope = envelope;
    this.field = field;
  }

  /** {@code field}: where the value entered the platform, for error messages (functions may move it). */
  public static SealedValue of(SealedEnvelope envelope, String field) {
    return new SealedValue(envelope, field);
  }

  public SealedEnvelope envelope() {
    return envelope;
  }

  /** The field (dotted path) the value had when it entered the tenant's function. */
  public String field() {
    return field;
  }

  /** The error for an attempt to read the value: {@code what} says what was attempted. */
  public Misuse misuse(String what) {
    return new Misuse(field, "field '" + field + "' is sealed (encrypted with the tenant's key): " + what
        + " cannot read or compare it; pass it through, copy it or drop it");
  }

  /** The JSON form, {@code {"$sealed":"<base64url>"}}: how Jackson writes it (dry runs, answers). */
  @JsonValue
  public Map<String, Object> json() {
    return envelope.json();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SealedValue other && envelope.equals(other.envelope);
  }

  @Override
  public int hashCode() {
    return envelope.hashCode();
  }

  @Override
  public String toString() {
    return envelope.toString();
  }

  /** A function or rule tried to read or compare a sealed value. */
  public static final class Misuse extends RuntimeException {
    private final String field;

    public Misuse(String field, String message) {
      super(message, null, false, false);
      this.field = field;
    }

    public String field() {
      return field;
    }
  }
}
