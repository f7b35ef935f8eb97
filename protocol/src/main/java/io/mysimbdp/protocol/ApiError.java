package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * The one error body of the whole API: a machine-readable {@code code} (stable, snake_case) and a
 * human {@code message} naming the problem; {@code details} carries extra fields when useful (the
 * offending field, a position, a limit).
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ApiError(int status, String code, String message, Map<String, Object> details) {

  public ApiError(int status, String code, String message) {
    this(status, code, message, Map.of());
  }
}
