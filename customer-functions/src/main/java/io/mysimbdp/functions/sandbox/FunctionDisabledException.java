package io.mysimbdp.functions.sandbox;

import io.mysimbdp.functions.spi.FunctionException;

/** The function was not run: its guard has disabled it (see {@link GuardedFunction#status()}). */
public final class FunctionDisabledException extends FunctionException {
  public FunctionDisabledException(String message) {
    super(message);
  }
}
