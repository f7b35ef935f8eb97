package io.mysimbdp.node.http;

import java.util.Map;

/**
 * A request the platform refuses, with the status, code and message the client gets. Services
 * throw it (or fail their CompletionStage with it); {@link ApiErrors} turns it into the error body.
 */
public final class ApiException extends RuntimeException {
  private final int status;
  private final String code;
  private final Map<String, Object> details;

  public ApiException(int status, String code, String message) {
    this(status, code, message, Map.of());
  }

  public ApiException(int status, String code, String message, Map<String, Object> details) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public Map<String, Object> details() {
    return details;
  }
}
