package io.mysimbdp.functions.sandbox;

import com.dashjoin.jsonata.JException;
import io.mysimbdp.functions.sandbox.LimitExceededException.Limit;

/**
 * Thrown inside a JSONata evaluation to stop it. Extends the library's exception type so that the
 * library's own catch blocks pass it on unchanged; the monitor also keeps it, so it wins even if
 * some library code wrapped or swallowed it.
 */
final class LimitViolation extends JException {
  private static final long serialVersionUID = 1L;

  private final Limit limit;
  private final String message;

  LimitViolation(Limit limit, String message) {
    super("SANDBOX", -1);
    this.limit = limit;
    this.message = message;
  }

  @Override
  public String getMessage() {
    return message;
  }

  LimitExceededException toFunctionException() {
    return new LimitExceededException(limit, message);
  }
}
