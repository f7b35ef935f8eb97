package io.mysimbdp.cli;

import io.mysimbdp.protocol.ApiError;

/**
 * The platform answered with an error status. {@link #error()} is the {@code ApiError} body the
 * platform sent, or one made up from the status when the body was not an {@code ApiError}.
 */
public final class PlatformException extends RuntimeException {
  private final ApiError error;

  public PlatformException(ApiError error) {
    super(error.status() + " " + error.code() + ": " + error.message());
    this.error = error;
  }

  public ApiError error() {
    return error;
  }

  public int status() {
    return error.status();
  }

  /** {@code code: message}, the line a user sees. */
  public String describe() {
    return error.code() + ": " + error.message();
  }
}
