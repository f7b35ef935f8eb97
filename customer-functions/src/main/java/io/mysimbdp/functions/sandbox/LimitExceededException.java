package io.mysimbdp.functions.sandbox;

import io.mysimbdp.functions.spi.FunctionException;

/** A record failed because the function went over one of its {@link SandboxLimits}. */
public final class LimitExceededException extends FunctionException {

  /** Which bound. */
  public enum Limit {
    TIMEOUT,
    DEPTH,
    MEMORY,
    OUTPUT,
    FORBIDDEN
  }

  private final Limit limit;

  public LimitExceededException(Limit limit, String message) {
    super(message);
    this.limit = limit;
  }

  public Limit limit() {
    return limit;
  }
}
