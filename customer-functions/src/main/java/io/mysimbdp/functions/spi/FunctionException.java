package io.mysimbdp.functions.spi;

/** A record that the function rejects; it goes to the dead-letter store with this message. */
public class FunctionException extends Exception {
  public FunctionException(String message) {
    super(message);
  }

  public FunctionException(String message, Throwable cause) {
    super(message, cause);
  }

  /** For exceptions thrown often and identically (no stack trace, no suppressed exceptions). */
  protected FunctionException(String message, Throwable cause, boolean enableSuppression, boolean writableStackTrace) {
    super(message, cause, enableSuppression, writableStackTrace);
  }
}
