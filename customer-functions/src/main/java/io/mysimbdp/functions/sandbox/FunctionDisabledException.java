package io.mysimbdp.functions.sandbox;

import io.mysimbdp.functions.spi.FunctionException;

/**
 * The function was not run: its guard has disabled it (see {@link GuardedFunction#status()}). Made
 * once per disable and thrown for every later record, without a stack trace: a disabled function
 * costs a record nothing but the throw.
 */
public final class FunctionDisabledException extends FunctionException {
  public FunctionDisabledException(String message) {
    super(message, null, false, false);
  }
}
